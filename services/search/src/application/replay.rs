//! Re-driving the dead-letter queue once the cause of its letters is fixed: every record it
//! holds, or whose batch it locates in the stream, is projected again; what still cannot be
//! projected stays in the queue, with the reason in the report.
//!
//! A replay can be run any number of times, and beside the live consumer: each write is
//! conditional on the trip's version, so an old record never overwrites a newer document.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use kernel::InfraError;
use kernel::stream::ChangeRecord;

use super::project::{Projected, Projector, Unprojectable};
use crate::domain::{DeadLetter, DeadLetterQueue, Letter, Received, StreamArchive};

/// How long a received message stays hidden from other readers: long enough for a replay to
/// get through its page of ten (a batch location can hold a thousand records), short enough
/// that a message an interrupted replay left behind shows again soon.
pub const VISIBILITY_SECONDS: i32 = 300;

/// The replay: a queue, the stream batches are read back from, and the consumer's projector.
pub struct Replay {
    queue: Arc<dyn DeadLetterQueue>,
    archive: Arc<dyn StreamArchive>,
    projector: Projector,
}

/// What a replay did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplayReport {
    /// Messages read.
    pub messages: usize,
    /// Messages replayed and deleted.
    pub replayed: usize,
    /// Records projected (written, stale or skipped) from them.
    pub written: usize,
    /// Records the table already held (or held later versions of).
    pub stale: usize,
    /// Records of other items than trips.
    pub skipped: usize,
    /// Records of a batch that still cannot be projected, sent back to the queue one by one
    /// (so that they outlive the stream's 24 hours).
    pub set_aside: usize,
    /// Messages left in the queue, each with why.
    pub kept: Vec<Kept>,
}

/// A message the replay left in the queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kept {
    /// The queue's id of it.
    pub message_id: String,
    /// Why it stays.
    pub reason: String,
}

impl ReplayReport {
    /// Whether the queue held nothing the replay could not re-drive.
    pub fn is_clean(&self) -> bool {
        self.kept.is_empty()
    }

    fn count(&mut self, projected: Projected) {
        match projected {
            Projected::Written => self.written += 1,
            Projected::Stale => self.stale += 1,
            Projected::Skipped => self.skipped += 1,
        }
    }

    fn keep(&mut self, message: &Received, reason: String) {
        self.kept.push(Kept {
            message_id: message.id.clone(),
            reason,
        });
    }
}

impl fmt::Display for ReplayReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} message(s) read, {} replayed and deleted: {} document(s) written, {} already up to date, {} not about a trip",
            self.messages, self.replayed, self.written, self.stale, self.skipped
        )?;
        if self.set_aside > 0 {
            write!(
                f,
                "; {} record(s) of failed batches still cannot be projected and wait in the queue one by one",
                self.set_aside
            )?;
        }
        if !self.kept.is_empty() {
            write!(f, "; {} kept in the queue:", self.kept.len())?;
            for kept in &self.kept {
                write!(f, "\n  {}: {}", kept.message_id, kept.reason)?;
            }
        }
        Ok(())
    }
}

impl Replay {
    /// Replays `queue`'s letters through `projector`, reading failed batches from `archive`.
    pub fn new(
        queue: Arc<dyn DeadLetterQueue>,
        archive: Arc<dyn StreamArchive>,
        projector: Projector,
    ) -> Self {
        Self {
            queue,
            archive,
            projector,
        }
    }

    /// Reads the queue until it has shown every message it holds once, and re-drives each.
    /// The messages it keeps are made visible again at the end, for the next replay or a look.
    ///
    /// # Errors
    /// When the queue or the search table fails. The messages replayed so far are deleted; the
    /// rest show again (at once, or after [`VISIBILITY_SECONDS`] if the queue cannot be
    /// reached) and a new replay picks them up.
    pub async fn run(&self) -> Result<ReplayReport, InfraError> {
        let mut report = ReplayReport::default();
        let mut held = Vec::new();
        let done = self.drain(&mut report, &mut held).await;
        for receipt_handle in &held {
            if let Err(error) = self.queue.release(receipt_handle).await {
                tracing::warn!(%error, "a kept message shows again only when its visibility ends");
            }
        }
        done.map(|()| report)
    }

    async fn drain(
        &self,
        report: &mut ReplayReport,
        held: &mut Vec<String>,
    ) -> Result<(), InfraError> {
        // Kept messages would come round again once their visibility ends, and messages set
        // aside during this run arrive too: each is handled once per run.
        let mut seen = HashSet::new();
        loop {
            let mut fresh = Vec::new();
            for message in self.queue.receive(VISIBILITY_SECONDS).await? {
                if seen.insert(message.id.clone()) {
                    fresh.push(message);
                } else {
                    // Received again: this receipt is the one that can release it.
                    held.push(message.receipt_handle);
                }
            }
            if fresh.is_empty() {
                return Ok(());
            }
            for message in fresh {
                report.messages += 1;
                held.push(message.receipt_handle.clone());
                if self.replay(&message, report).await? {
                    self.queue.delete(&message.receipt_handle).await?;
                    held.pop();
                    report.replayed += 1;
                }
            }
        }
    }

    /// Re-drives one message; answers whether it is done with (to delete).
    async fn replay(
        &self,
        message: &Received,
        report: &mut ReplayReport,
    ) -> Result<bool, InfraError> {
        match &message.letter {
            Letter::Record(letter) => match self.projector.project(&letter.record).await {
                Ok(projected) => {
                    report.count(projected);
                    Ok(true)
                }
                Err(Unprojectable::Poison(reason)) => {
                    report.keep(message, format!("still cannot be projected: {reason}"));
                    Ok(false)
                }
                Err(Unprojectable::Store(error)) => Err(error),
            },
            Letter::Batch(location) => {
                let records = match self.archive.read_batch(location).await {
                    Ok(records) if !records.is_empty() => records,
                    Ok(_) => {
                        report.keep(
                            message,
                            format!(
                                "the stream no longer holds shard {}'s records {}..={} (streams keep 24 hours); the trips' current items in the table are the truth",
                                location.shard_id,
                                location.start_sequence_number,
                                location.end_sequence_number
                            ),
                        );
                        return Ok(false);
                    }
                    Err(error) => {
                        report.keep(message, format!("reading the batch back failed: {error}"));
                        return Ok(false);
                    }
                };
                self.replay_batch(&records, report).await?;
                Ok(true)
            }
            Letter::Unknown(body) => {
                let excerpt: String = body.chars().take(120).collect();
                report.keep(
                    message,
                    format!("neither a dead letter nor an on-failure record: {excerpt}"),
                );
                Ok(false)
            }
        }
    }

    /// Projects a failed batch's records; a poison one among them becomes a dead letter of its
    /// own, so the batch's message can go while that record waits in full.
    async fn replay_batch(
        &self,
        records: &[ChangeRecord],
        report: &mut ReplayReport,
    ) -> Result<(), InfraError> {
        for record in records {
            match self.projector.project(record).await {
                Ok(projected) => report.count(projected),
                Err(Unprojectable::Poison(reason)) => {
                    self.projector
                        .dead_letters()
                        .send(DeadLetter {
                            reason,
                            record: record.clone(),
                        })
                        .await?;
                    report.set_aside += 1;
                }
                Err(Unprojectable::Store(error)) => return Err(error),
            }
        }
        Ok(())
    }
}
