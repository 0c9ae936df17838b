//! The saga's functions, each on a DynamoDB client of its own that records the IAM actions of
//! every request it sends: what the infrastructure must grant that function.
//!
//! Every invocation runs its handler twice, as Step Functions does when a response is lost after
//! the function's effect: the first answer is dropped, the second returned. So the replay paths
//! (the idempotency record already written, its stored result read back) are recorded too, and
//! every path shows its handlers are safe to run twice.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use asl_executor::{BoxFuture, LambdaError, LambdaInvocation, LambdaInvoker};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemInput;
use aws_sdk_dynamodb::operation::batch_write_item::BatchWriteItemInput;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemInput;
use aws_sdk_dynamodb::operation::get_item::GetItemInput;
use aws_sdk_dynamodb::operation::put_item::PutItemInput;
use aws_sdk_dynamodb::operation::query::QueryInput;
use aws_sdk_dynamodb::operation::scan::ScanInput;
use aws_sdk_dynamodb::operation::transact_get_items::TransactGetItemsInput;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsInput;
use aws_sdk_dynamodb::operation::update_item::UpdateItemInput;
use serde_json::Value;
use trip_saga::TripContext;
use trip_saga::trip_booking::{Function, SAGA};

type Log = Arc<Mutex<BTreeMap<&'static str, BTreeSet<String>>>>;

/// Every function of the saga on its own recording client, all on one table.
pub(crate) struct Recording {
    contexts: HashMap<Function, TripContext>,
    log: Log,
}

impl Recording {
    pub(crate) fn new(client: &Client, table: &str) -> Self {
        let log = Log::default();
        let contexts = Function::ALL
            .iter()
            .map(|&function| {
                let recorder = Recorder {
                    function: function.name(),
                    log: Arc::clone(&log),
                };
                let config = client.config().to_builder().interceptor(recorder).build();
                let client = Client::from_conf(config);
                (function, TripContext::dynamodb(&client, table))
            })
            .collect();
        Self { contexts, log }
    }

    /// The actions each function sent so far, by function name (every function listed).
    pub(crate) fn actions(&self) -> BTreeMap<&'static str, BTreeSet<String>> {
        let log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        Function::ALL
            .iter()
            .map(|f| (f.name(), log.get(f.name()).cloned().unwrap_or_default()))
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

#[derive(Debug)]
struct Recorder {
    function: &'static str,
    log: Log,
}

impl Intercept for Recorder {
    fn name(&self) -> &'static str {
        "RecordTableActions"
    }

    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let actions = iam_actions(context);
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(self.function)
            .or_default()
            .extend(actions);
        Ok(())
    }
}

/// The IAM actions a request needs: its operation's, or for a transaction or batch write, each
/// write's. A request of a kind not listed here is recorded as such, and so fails the test.
fn iam_actions(context: &BeforeSerializationInterceptorContextRef<'_>) -> Vec<String> {
    let input = context.input();
    let action = |name: &str| format!("dynamodb:{name}");
    if let Some(transaction) = input.downcast_ref::<TransactWriteItemsInput>() {
        return transaction
            .transact_items()
            .iter()
            .map(|item| {
                if item.put().is_some() {
                    action("PutItem")
                } else if item.update().is_some() {
                    action("UpdateItem")
                } else if item.delete().is_some() {
                    action("DeleteItem")
                } else {
                    action("ConditionCheckItem")
                }
            })
            .collect();
    }
    if let Some(batch) = input.downcast_ref::<BatchWriteItemInput>() {
        return batch
            .request_items()
            .into_iter()
            .flat_map(|items| items.values().flatten())
            .map(|request| {
                if request.put_request().is_some() {
                    action("PutItem")
                } else {
                    action("DeleteItem")
                }
            })
            .collect();
    }
    let name = if input.downcast_ref::<GetItemInput>().is_some()
        || input.downcast_ref::<TransactGetItemsInput>().is_some()
    {
        "GetItem"
    } else if input.downcast_ref::<QueryInput>().is_some() {
        "Query"
    } else if input.downcast_ref::<BatchGetItemInput>().is_some() {
        "BatchGetItem"
    } else if input.downcast_ref::<PutItemInput>().is_some() {
        "PutItem"
    } else if input.downcast_ref::<UpdateItemInput>().is_some() {
        "UpdateItem"
    } else if input.downcast_ref::<DeleteItemInput>().is_some() {
        "DeleteItem"
    } else if input.downcast_ref::<ScanInput>().is_some() {
        "Scan"
    } else {
        "<an operation this test does not know: add it>"
    };
    vec![action(name)]
}
