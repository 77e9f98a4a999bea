// The post: step. After a cancel or a crash the main step may not have released the app's lock:
// release it if this run still holds it, and report the state the cluster was left in.
import * as core from '@actions/core';
import { errorMessage } from '@adci/common';
import { readInputs } from './inputs.ts';

async function post(): Promise<void> {
  const name = core.getState('lock-name');
  const namespace = core.getState('lock-namespace');
  const holder = core.getState('lock-holder');
  if (!name || core.getState('lock-released') === 'true') return;
  try {
    const inputs = readInputs();
    const { KubeClient, releaseLock } = await import('@adci/kube');
    const kube = new KubeClient({ kubeconfig: inputs.kubeconfig, context: inputs.context });
    const released = await releaseLock(kube, namespace, name, holder);
    core.info(released ? `post: released lock ${name} left by the main step` : `post: lock ${name} was already released`);
  } catch (error) {
    core.warning(`post: could not release lock ${name} in ${namespace}: ${errorMessage(error)}`);
  }
}

await post();
