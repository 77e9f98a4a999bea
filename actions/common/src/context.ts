// The GitHub run context for action adapters: the one reader in @adci/common, which `adci` on a
// GitHub runner uses too, so the action and the CLI name the same commit.
export { readRunContext, type RunContext } from '@adci/common/github-context';
