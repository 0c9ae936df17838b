//! What each function of the saga does to the single table, as the IAM actions it needs: the
//! infrastructure grants each function exactly its own list (`generated/trip_table_access.json`,
//! written by `make gen`), and nothing else.
//!
//! The lists are declared here, next to the handlers, and checked against what the functions
//! really call: `tests/saga.rs` runs every path of the saga on DynamoDB (moto) with one client
//! per function, each recording the requests it sends, and fails unless each function's
//! recorded actions are exactly its list. A handler that starts calling something new fails that
//! test instead of failing in AWS with AccessDenied; a permission no path uses fails it too.
//!
//! `TransactWriteItems` has no IAM action of its own: each write in it is authorized as the
//! `PutItem`, `UpdateItem`, `DeleteItem` or `ConditionCheckItem` it is.
//!
//! ```
//! use trip_saga::table_access::{actions, access_json};
//! use trip_saga::trip_booking::Function;
//!
//! assert!(actions(Function::ReserveFlight).contains(&"dynamodb:UpdateItem"));
//! assert!(!actions(Function::CreateTrip).contains(&"dynamodb:UpdateItem"));
//! assert!(access_json().contains("\"ReserveFlight\""));
//! ```

use std::collections::BTreeMap;

use crate::trip_booking::{Function, NAME};

/// Where `make gen` writes [`access_json`].
pub const ACCESS_FILE: &str = "generated/trip_table_access.json";

/// The command that rewrites [`ACCESS_FILE`] (`make gen` runs it too).
pub const REGENERATE: &str =
    "cargo run -p trip-local -- table-access --out generated/trip_table_access.json";

/// The IAM actions `function` needs on the single table, sorted.
#[must_use]
pub const fn actions(function: Function) -> &'static [&'static str] {
    // Exhaustive: a step added to the saga does not compile until its access is declared.
    match function {
        // Reads one item at a time; writes whole items (the aggregate, its outbox event and the
        // idempotency record, in the step's transaction).
        Function::CreateTrip
        | Function::ConfirmTrip
        | Function::LockTrip
        | Function::ProcessPayment => &["dynamodb:GetItem", "dynamodb:PutItem"],
        // Before cancelling, or marking the trip for an operator, they read what the trip's
        // bookings still hold (the reservations are queried by trip).
        Function::CancelTrip | Function::EscalateTrip => {
            &["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"]
        }
        // Seats and rooms are taken and given back by conditional updates of inventory items; a
        // refund of a captured payment updates the payment item in place.
        Function::ReserveFlight
        | Function::CancelFlight
        | Function::CancelHotel
        | Function::RefundPayment => &[
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
        ],
        // Reads every night of the stay in one BatchGetItem.
        Function::ReserveHotel => &[
            "dynamodb:BatchGetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
        ],
    }
}

/// Every function's [`actions`], as the JSON committed at [`ACCESS_FILE`]: by saga, then by
/// function name, with a "generated" marker.
#[must_use]
pub fn access_json() -> String {
    let functions: BTreeMap<&str, &[&str]> = Function::ALL
        .iter()
        .map(|&function| (function.name(), actions(function)))
        .collect();
    let document = serde_json::json!({
        "generated": format!(
            "Generated from trip_saga::table_access by trip-local; do not edit. Regenerate with `{REGENERATE}` (or `make gen`)."
        ),
        "sagas": { NAME: functions },
    });
    let mut json = serde_json::to_string_pretty(&document).expect("the access lists serialize");
    json.push('\n');
    json
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_access_file_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(ACCESS_FILE);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == access_json(),
            "{ACCESS_FILE} is stale: run `{REGENERATE}` (or `make gen`) and commit the result"
        );
    }

    #[test]
    fn every_list_is_sorted_without_duplicates_and_names_only_item_actions() {
        for &function in Function::ALL {
            let list = actions(function);
            assert!(
                list.windows(2).all(|w| w[0] < w[1]),
                "{function:?}: {list:?}"
            );
            for action in list {
                assert!(
                    [
                        "dynamodb:BatchGetItem",
                        "dynamodb:ConditionCheckItem",
                        "dynamodb:DeleteItem",
                        "dynamodb:GetItem",
                        "dynamodb:PutItem",
                        "dynamodb:Query",
                        "dynamodb:UpdateItem",
                    ]
                    .contains(action),
                    "{function:?} asks for {action}: no saga function administers the table or scans it"
                );
            }
        }
    }
}
