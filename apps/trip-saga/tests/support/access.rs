//! The saga's functions, each on a DynamoDB client of its own that records the IAM actions of
//! every request it sends: what the infrastructure must grant that function.
//!
//! Every invocation runs its handler twice, as Step Functions does when a response is lost after
//! the function's effect: the first answer is dropped, the second returned. So the replay paths
//! (the idempotency record already written, its stored result read back) are recorded too, and
//! every path shows its handlers are safe to run twice.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use asl_executor::{BoxFuture, LambdaError, LambdaInvocation, LambdaInvoker};
use aws_sdk_dynamodb::Client;
use kernel::testing::actions::{ActionLog, recording_client};
use serde_json::Value;
use trip_saga::TripContext;
use trip_saga::trip_booking::{Function, SAGA};

/// Every function of the saga on its own recording client, all on one table.
pub(crate) struct Recording {
    contexts: HashMap<Function, TripContext>,
    log: ActionLog,
}

impl Recording {
    pub(crate) fn new(client: &Client, table: &str) -> Self {
        let log = ActionLog::default();
        let contexts = Function::ALL
            .iter()
            .map(|&function| {
                let client = recording_client(client, function.name(), &log);
                (function, TripContext::dynamodb(&client, table))
            })
            .collect();
        Self { contexts, log }
    }

    /// The actions each function sent so far, by function name (every function listed).
    pub(crate) fn actions(&self) -> BTreeMap<&'static str, BTreeSet<String>> {
        Function::ALL
            .iter()
            .map(|f| (f.name(), self.log.actions_of(f.name())))
            .collect()
    }
}

impl LambdaInvoker for Recording {
    fn invoke<'a>(
        &'a self,
        invocation: LambdaInvocation<'a>,
    ) -> BoxFuture<'a, Result<Value, LambdaError>> {
        Box::pin(async move {
            let info = saga_runtime::local::function_for(&SAGA, invocation.function_name)
                .unwrap_or_else(|| panic!("no function {}", invocation.function_name));
            let function = Function::from_name(&info.name).expect("a function of the saga");
            let context = &self.contexts[&function];
            // The lost response: its effect happened, its answer never arrived.
            let first = function.invoke(context, invocation.payload.clone()).await;
            let replayed = function.invoke(context, invocation.payload).await;
            assert_eq!(
                first.as_ref().map_err(|d| &d.error_type),
                replayed.as_ref().map_err(|d| &d.error_type),
                "{function:?} answered differently when run again on the same payload"
            );
            replayed.map_err(|d| LambdaError::Function {
                error_type: d.error_type,
                error_message: d.error_message,
            })
        })
    }
}
