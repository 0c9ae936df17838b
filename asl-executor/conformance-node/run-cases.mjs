// Runs every conformance case (../tests/conformance/*.json) on aws-local-stepfunctions, an
// independent ASL engine, and prints one JSON array of outcomes on stdout. The Rust test
// `tests/node_cross_check.rs` compares them with asl-executor's own results.
//
// Task states are answered by the same per-state mocks the Rust harness uses; Lambda's
// optimised integration is emulated here (response envelope, function-error cause) because
// the local handlers replace the whole Lambda call.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

// aws-local-stepfunctions 3.x declares Node >= 22 and calls Promise.withResolvers (Node 22+).
// On older Node the standard polyfill below is all it lacks; import the engine only after it.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new this((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}
const { StateMachine, ExecutionError, ExecutionTimeoutError } = await import('aws-local-stepfunctions');

const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
const CONTEXT_DEFAULTS = {
  StartTime: '2024-01-01T00:00:00Z',
  Id: 'arn:aws:states:us-east-1:123456789012:execution:StateMachine:local-execution',
  Name: 'local-execution',
};

function invokeResponse(payload) {
  return {
    ExecutedVersion: '$LATEST',
    Payload: payload,
    SdkHttpMetadata: {
      AllHttpHeaders: {
        'X-Amz-Executed-Version': ['$LATEST'],
        'x-amzn-Remapped-Content-Length': ['0'],
        Connection: ['keep-alive'],
        'x-amzn-RequestId': ['00000000-0000-0000-0000-000000000000'],
        'Content-Type': ['application/json'],
      },
      HttpHeaders: {
        Connection: 'keep-alive',
        'Content-Type': 'application/json',
        'X-Amz-Executed-Version': '$LATEST',
        'x-amzn-Remapped-Content-Length': '0',
        'x-amzn-RequestId': '00000000-0000-0000-0000-000000000000',
      },
      HttpStatusCode: 200,
    },
    SdkResponseMetadata: { RequestId: '00000000-0000-0000-0000-000000000000' },
    StatusCode: 200,
  };
}

function namedError(name, message) {
  const e = new Error(message ?? '');
  e.name = name;
  return e;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Collects every state (any nesting level) so overrides can be keyed by state name.
function collectStates(machine, out = []) {
  for (const [name, state] of Object.entries(machine.States ?? {})) {
    out.push([name, state]);
    for (const branch of state.Branches ?? []) collectStates(branch, out);
    const processor = state.ItemProcessor ?? state.Iterator;
    if (processor) collectStates(processor, out);
  }
  return out;
}

function handlerFor(stateName, state, mocks) {
  const steps = mocks[stateName] ?? [];
  let calls = 0;
  return async (input) => {
    const step = steps.length === 0 ? null : steps[Math.min(calls, steps.length - 1)];
    calls += 1;
    if (step?.delay_seconds) await sleep(step.delay_seconds * 1000);
    const isInvoke = state.Resource === LAMBDA_INVOKE;
    const event = isInvoke ? (input?.Payload ?? {}) : input;
    if (step && 'error' in step) throw namedError(step.error, step.cause);
    if (step && 'function_error' in step) {
      const { errorType, errorMessage } = step.function_error;
      throw namedError(errorType, JSON.stringify({ errorMessage, errorType, trace: [] }));
    }
    const result = step && 'result' in step ? step.result : event;
    return isInvoke ? invokeResponse(result) : result;
  };
}

async function runCase(file, testCase) {
  const definition = testCase.definition;
  const taskResourceLocalHandlers = {};
  const waitTimeOverrides = {};
  const retryIntervalOverrides = {};
  for (const [name, state] of collectStates(definition)) {
    if (state.Type === 'Task') {
      taskResourceLocalHandlers[name] = handlerFor(name, state, testCase.mocks ?? {});
    }
    if (state.Type === 'Wait') waitTimeOverrides[name] = testCase.node_wait_ms?.[name] ?? 0;
    if (state.Retry) retryIntervalOverrides[name] = 0;
  }
  const context = {
    Execution: { ...CONTEXT_DEFAULTS, Input: testCase.input },
    StateMachine: {
      Id: 'arn:aws:states:us-east-1:123456789012:stateMachine:StateMachine',
      Name: 'StateMachine',
    },
  };
  try {
    const machine = new StateMachine(definition, { validationOptions: { checkArn: false } });
    const execution = machine.run(testCase.input, {
      overrides: { taskResourceLocalHandlers, waitTimeOverrides, retryIntervalOverrides },
      context,
    });
    const output = await execution.result;
    return { file, status: 'SUCCEEDED', output };
  } catch (e) {
    if (e instanceof ExecutionTimeoutError) {
      return { file, status: 'TIMED_OUT', error: 'States.Timeout' };
    }
    if (e instanceof ExecutionError) {
      const inner = e.cause ?? {};
      return { file, status: 'FAILED', error: inner.name, cause: inner.message };
    }
    return { file, status: 'ENGINE_ERROR', error: String(e?.name), cause: String(e?.message) };
  }
}

// The engine leaves some losing promises of its internal races unhandled (a failed task next
// to its timeout timer); they do not affect results, so they must not crash the run.
process.on('unhandledRejection', () => {});

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node run-cases.mjs <conformance-dir>');
  process.exit(64);
}
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
const results = await Promise.all(
  files.map((f) => runCase(f, JSON.parse(readFileSync(join(dir, f), 'utf8')))),
);
process.stdout.write(JSON.stringify(results));
// Handlers that simulate slow tasks keep timers alive after a timeout; do not wait for them.
process.exit(0);
