//! The IAM actions a DynamoDB client's requests need, recorded as they are sent: what a
//! function's role must allow, measured instead of guessed.
//!
//! ```no_run
//! # async fn test() {
//! use kernel::testing::actions::{ActionLog, recording_client};
//!
//! let table = kernel::testing::test_table().await;
//! let log = ActionLog::default();
//! let client = recording_client(&table.client, "ReserveFlight", &log);
//! client.get_item().table_name(&table.name).send().await.ok();
//! assert!(log.actions_of("ReserveFlight").contains("dynamodb:GetItem"));
//! # }
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};

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

/// The actions recorded so far, by the label of the client that sent them. Cheap to clone:
/// clones share one log.
#[derive(Clone, Debug, Default)]
pub struct ActionLog(Arc<Mutex<BTreeMap<String, BTreeSet<String>>>>);

impl ActionLog {
    /// The actions the clients labelled `label` sent (empty if none).
    pub fn actions_of(&self, label: &str) -> BTreeSet<String> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(label)
            .cloned()
            .unwrap_or_default()
    }

    fn record(&self, label: &str, actions: Vec<String>) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(label.to_owned())
            .or_default()
            .extend(actions);
    }
}

/// `client`, recording into `log`, under `label`, the IAM actions of every request it sends.
pub fn recording_client(client: &Client, label: &str, log: &ActionLog) -> Client {
    let recorder = Recorder {
        label: label.to_owned(),
        log: log.clone(),
    };
    Client::from_conf(client.config().to_builder().interceptor(recorder).build())
}

#[derive(Debug)]
struct Recorder {
    label: String,
    log: ActionLog,
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
        self.log.record(&self.label, iam_actions(context));
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
        "<an operation kernel::testing::actions does not know: add it>"
    };
    vec![action(name)]
}
