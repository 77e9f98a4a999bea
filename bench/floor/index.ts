// The start-up floor of the cold-start bench: the least any action does. An ncc bundle of this
// file imports @actions/core, reads one input and writes one output, and nothing else.
// @actions/core is the actions' own dependency (actions/common), hoisted to the root node_modules.
// eslint-disable-next-line import-x/no-extraneous-dependencies
import * as core from '@actions/core';

core.setOutput('greeting', `hello ${core.getInput('name', { required: true })}`);
