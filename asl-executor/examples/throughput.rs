//! Single-threaded executions per second for a 3-task happy path with trivial tasks.
//!
//! `cargo run --release -p asl-executor --example throughput`

use std::time::Instant;

use asl_executor::{ExecutionOptions, HistoryMode, StateMachine, Status, SyncTaskFn, TaskRequest};
use serde_json::{Value, json};

const DEFINITION: &str = r#"{
  "StartAt": "ReserveFlight",
  "States": {
    "ReserveFlight": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:flight",
                      "ResultPath": "$.flight", "Next": "ReserveHotel"},
    "ReserveHotel":  {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:hotel",
                      "ResultPath": "$.hotel", "Next": "Confirm"},
    "Confirm":       {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:confirm",
                      "ResultPath": null, "End": true}
  }
}"#;

fn main() {
    let machine = StateMachine::from_json(DEFINITION).expect("valid definition");
    let tasks = SyncTaskFn(|_: TaskRequest<'_>| Ok(Value::Bool(true)));
    let input = json!({"tripId": "T-1", "customer": "C-9"});
    for mode in [
        HistoryMode::Full,
        HistoryMode::WithoutPayloads,
        HistoryMode::Off,
    ] {
        let options = ExecutionOptions {
            history: mode,
            ..ExecutionOptions::default()
        };
        let n = 200_000;
        let start = Instant::now();
        for _ in 0..n {
            let run = machine.run(&tasks, input.clone(), &options);
            let execution = futures::executor::block_on(run);
            assert_eq!(execution.status, Status::Succeeded);
        }
        let secs = start.elapsed().as_secs_f64();
        println!("{mode:?}: {:.0} executions/s", f64::from(n) / secs);
    }
}
