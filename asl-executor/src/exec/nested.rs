//! Parallel branches and Map iterations, run one after another on the same `Exec`.

use serde_json::Value;

use super::data::{input_ref, select_required};
use super::{Exec, Stop, state_ctx};
use crate::definition::{Kind, State};
use crate::error::{StatesError, names};
use crate::history::EventKind;

impl Exec<'_> {
    pub(super) async fn attempt_parallel(
        &mut self,
        state: &State,
        raw: &Value,
        entered_ms: i64,
        retry_count: u32,
        depth: u32,
    ) -> Result<Value, Stop> {
        let Kind::Parallel {
            branches,
            parameters,
            ..
        } = &state.kind
        else {
            unreachable!("attempt_parallel is only called for Parallel states");
        };
        let effective = input_ref(&state.input_path, raw)?;
        let input = match parameters {
            Some(template) => {
                let ctx = state_ctx(&self.info, state, entered_ms, retry_count);
                template.eval(&effective, &ctx, &mut self.rng)?
            }
            None => effective.into_owned(),
        };
        // Branches run one after another: deterministic histories matter more to us than
        // concurrency, and the result order is the branch order either way.
        let mut results = Vec::with_capacity(branches.len());
        for (index, branch) in branches.iter().enumerate() {
            self.recorder.push(
                self.clock.now_millis(),
                depth,
                EventKind::BranchStarted {
                    name: state.name.clone(),
                    index,
                },
            );
            let run = Box::pin(self.run_machine(branch, input.clone(), None, depth + 1, None));
            results.push(run.await?);
        }
        Ok(Value::Array(results))
    }

    pub(super) async fn attempt_map(
        &mut self,
        state: &State,
        raw: &Value,
        entered_ms: i64,
        retry_count: u32,
        depth: u32,
    ) -> Result<Value, Stop> {
        let Kind::Map {
            processor,
            items_path,
            item_selector,
            ..
        } = &state.kind
        else {
            unreachable!("attempt_map is only called for Map states");
        };
        let effective = input_ref(&state.input_path, raw)?;
        let items = match items_path {
            Some(path) => select_required(path, &effective, "ItemsPath")?,
            None => effective.clone().into_owned(),
        };
        let Value::Array(items) = items else {
            return Err(StatesError::new(
                names::RUNTIME,
                format!(
                    "Map state '{}': the items path must point to a JSON array",
                    state.name
                ),
            )
            .into());
        };
        let mut results = Vec::with_capacity(items.len());
        for (index, item) in items.into_iter().enumerate() {
            self.recorder.push(
                self.clock.now_millis(),
                depth,
                EventKind::IterationStarted {
                    name: state.name.clone(),
                    index,
                },
            );
            let iteration_input = match item_selector {
                Some(selector) => {
                    let mut ctx = state_ctx(&self.info, state, entered_ms, retry_count);
                    ctx.map_item = Some((index, &item));
                    selector.eval(&effective, &ctx, &mut self.rng)?
                }
                None => item,
            };
            let run = Box::pin(self.run_machine(processor, iteration_input, None, depth + 1, None));
            results.push(run.await?);
        }
        Ok(Value::Array(results))
    }
}
