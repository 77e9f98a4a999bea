// The adci release this code is: the package's version (package.json), printed by `adci --version`,
// carried in every `--json` output and in every action's job summary footer, so a run can be traced
// to a release. scripts/validate.ts and release.yml refuse a release where the two differ.
export const ADCI_VERSION = '1.0.0';
