// Executions per second of the trip saga's generated ASL on aws-local-stepfunctions, an
// independent ASL engine, with fixed mocked task results. Driven by asl-executor's bench
// `benches/trip_saga.rs`, which measures asl-executor on the same definition and mocks:
//
//   node bench-trip.mjs <definition.asl.json> <mocks.json> [count] [warmup]
//
// Prints one JSON object on stdout: {"engine", "count", "happy_per_s", "failure_per_s"}.
// Executions run one after another on the single JS thread (each awaited before the next).
import { readFileSync } from 'node:fs';

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
const { StateMachine, ExecutionError } = await import('aws-local-stepfunctions');

const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
const CONTEXT = {
  Execution: {
    StartTime: '2024-01-01T00:00:00Z',
    Id: 'arn:aws:states:us-east-1:123456789012:execution:StateMachine:local-execution',
    Name: 'local-execution',
  },
  StateMachine: {
    Id: 'arn:aws:states:us-east-1:123456789012:stateMachine:StateMachine',
    Name: 'StateMachine',
  },
  // aws-local-stepfunctions 3.0.0 does not maintain `$$.State` (the saga's Parameters read
  // `$$.State.Name` and `$$.State.RetryCount` for idempotency keys), so it is given a fixed one:
  // the same paths are evaluated, only the state name in the payload differs. The mocks ignore
  // their payload, so no outcome depends on it.
  State: { Name: 'State', EnteredTime: '2024-01-01T00:00:00Z', RetryCount: 0 },
};

// `${CreateTripFunctionArn}` → `arn:aws:lambda:us-east-1:123456789012:function:CreateTrip`;
// benches/trip_saga.rs resolves the placeholders with the same rule.
export function resolvePlaceholders(text) {
  return text.replace(
    /\$\{([A-Za-z0-9]+)FunctionArn\}/g,
    (_, name) => `arn:aws:lambda:us-east-1:123456789012:function:${name}`,
  );
}

// Lambda's Invoke response around a function output, as Step Functions returns it (the same
// envelope as asl_executor::invoke_response and run-cases.mjs).
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

function functionError({ errorType, errorMessage }) {
  const e = new Error(JSON.stringify({ errorMessage, errorType, trace: [] }));
  e.name = errorType;
  return e;
}

// One override per Task state: the fixed result (a fresh copy, as a real function returns a new
// document each time), or the failure when `failing` names the state.
function handlers(definition, mocks, failing) {
  const overrides = {};
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type !== 'Task') continue;
    if (state.Resource !== LAMBDA_INVOKE) throw new Error(`${name}: not lambda:invoke`);
    const result = mocks.results[name] ?? {};
    overrides[name] =
      name === failing
        ? async () => {
            throw functionError(mocks.failure.function_error);
          }
        : async () => invokeResponse(structuredClone(result));
  }
  return overrides;
}

async function runOnce(machine, input, overrides) {
  const execution = machine.run(input, { overrides: { taskResourceLocalHandlers: overrides }, context: CONTEXT });
  try {
    await execution.result;
    return ['SUCCEEDED', ''];
  } catch (e) {
    if (e instanceof ExecutionError) return [`FAILED ${e.cause?.name}`, e.cause?.message];
    throw e;
  }
}

function check([outcome, detail], expected) {
  if (outcome !== expected) throw new Error(`expected ${expected}, got ${outcome}: ${detail}`);
}

async function measure(machine, input, overrides, expected, warmup, count) {
  for (let i = 0; i < warmup; i += 1) {
    check(await runOnce(machine, input, overrides), expected);
  }
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i += 1) {
    check(await runOnce(machine, input, overrides), expected);
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return count / seconds;
}

// The engine leaves some losing promises of its internal races unhandled (a failed task next
// to its timeout timer); they do not affect results, so they must not crash the run.
process.on('unhandledRejection', () => {});

const [definitionPath, mocksPath, countArg, warmupArg] = process.argv.slice(2);
if (!definitionPath || !mocksPath) {
  console.error('usage: node bench-trip.mjs <definition.asl.json> <mocks.json> [count] [warmup]');
  process.exit(64);
}
const count = Number(countArg ?? 5000);
const warmup = Number(warmupArg ?? 1000);
const definition = JSON.parse(resolvePlaceholders(readFileSync(definitionPath, 'utf8')));
const mocks = JSON.parse(readFileSync(mocksPath, 'utf8'));
// Compiled once; every execution below reuses it.
const machine = new StateMachine(definition, { validationOptions: { checkArn: false } });

const happy = await measure(machine, mocks.input, handlers(definition, mocks, null), 'SUCCEEDED', warmup, count);
const failure = await measure(
  machine,
  mocks.input,
  handlers(definition, mocks, mocks.failure.state),
  `FAILED ${mocks.failure.function_error.errorType}`,
  warmup,
  count,
);
const pkg = JSON.parse(readFileSync(new URL('./node_modules/aws-local-stepfunctions/package.json', import.meta.url), 'utf8'));
process.stdout.write(
  `${JSON.stringify({ engine: `aws-local-stepfunctions ${pkg.version}`, node: process.version, count, happy_per_s: happy, failure_per_s: failure })}\n`,
);
// State and execution TimeoutSeconds leave timers behind; do not wait for them.
process.exit(0);
