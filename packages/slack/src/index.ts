// Slack notification engine: builds messages within Slack's limits and delivers them to incoming webhooks.
export { SLACK_LIMITS, findLimitProblems, truncate, type SlackMessage, type SlackBlock } from './limits.ts';
export {
  NOTIFY_STATUSES,
  buildDefaultMessage,
  buildCustomMessage,
  escapeMrkdwn,
  mentionTag,
  runInfoOf,
  type NotifyStatus,
  type RunInfo,
  type MessageSettings,
} from './message.ts';
export { deliverMessage, attemptTimeout, type DeliveryOptions, type DeliveryResult } from './deliver.ts';
export { renderMessageMarkdown } from './render.ts';
export { notify, composeMessage, templateValues, type NotifySettings, type NotifyResult } from './notify.ts';
export { parseMentions, checkWebhookUrl, resolveWebhookUrl, EMPTY_WEBHOOK_REASON, parsePayload } from './settings.ts';
