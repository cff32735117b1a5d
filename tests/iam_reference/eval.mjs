// The reference IAM evaluator for tests/guardrail_reference.rs (test-only; the package is AGPL-3.0
// and never shipped with the bot).
//
// Reads one JSON case per line on stdin: {"policy": <IAM policy document>, "action": "svc:Op",
// "resource": "arn:..."} and writes one line per case, in order: Allowed, ExplicitlyDenied or
// ImplicitlyDenied, or "Error: <why>" when the simulator refuses the input (an invalid policy, an
// unknown action, an ARN that is no resource type of the action). The Rust test treats an error
// as a failure, so a generator that drifts out of the simulator's data is noticed.
//
// The policy is the only identity policy of an IAM user in the resource's own account (the
// account in the ARN, or 111111111111 for ARNs without one, such as S3's). There is
// no resource policy, no permission boundary, no session policy, and no SCP or RCP (empty lists,
// which the simulator treats as "not in an organization"), so the decision is the identity
// policy's alone, which is what the bot's guard evaluates.
import { createInterface } from 'node:readline';
import { runSimulation } from '@cloud-copilot/iam-simulate';

const DEFAULT_ACCOUNT = '111111111111';

async function decide({ policy, action, resource }) {
  const arnAccount = resource.split(':')[4];
  const account = /^[0-9]{12}$/.test(arnAccount ?? '') ? arnAccount : DEFAULT_ACCOUNT;
  const response = await runSimulation(
    {
      request: {
        principal: `arn:aws:iam::${account}:user/chatops-reference`,
        action,
        resource: { resource, accountId: account },
        contextVariables: {},
      },
      identityPolicies: [{ name: 'guardrail', policy }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    { simulationMode: 'Strict' },
  );
  if (response.resultType === 'error') {
    return `Error: ${JSON.stringify(response.errors)}`;
  }
  if (response.resultType !== 'single') {
    // A wildcard request resource: the Rust test never sends one.
    return `Error: unexpected result type ${response.resultType}`;
  }
  return response.overallResult;
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (line.trim() === '') continue;
  let answer;
  try {
    answer = await decide(JSON.parse(line));
  } catch (e) {
    answer = `Error: ${String(e && e.message ? e.message : e).replace(/\n/g, ' ')}`;
  }
  process.stdout.write(answer + '\n');
}
