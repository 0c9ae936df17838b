//! The states the generator adds around a saga's steps; a step, compensation or escalation may
//! not take one of these names.

/// Keeps the execution input under `$.input`.
pub const START: &str = "Start";
/// Decides, after the compensations, whether any was left undone.
pub const CHECK_COMPENSATIONS: &str = "CheckCompensations";
/// Records what is left undone when the saga declares no escalation function.
pub const ESCALATE: &str = "Escalate";
/// Decides how the execution fails: with the step's own error, or wrapped when it is an error
/// of Step Functions itself (`States.*`).
pub const CHECK_FAILURE: &str = "CheckFailure";
/// Wraps a `States.*` error in the saga's `<Saga>.StepFailed`, the original leading the cause.
pub const STEP_FAILED: &str = "StepFailed";
/// Ends the execution after every completed step was undone.
pub const COMPENSATED: &str = "Compensated";
/// Ends the execution after the escalation ran for what is left undone.
pub const COMPENSATION_FAILED: &str = "CompensationFailed";
/// Ends the execution when the escalation itself failed: nobody was told.
pub const ESCALATION_FAILED: &str = "EscalationFailed";

/// Decides, after the pivot's guard, whether the pivot took effect (go on) or not (compensate).
pub const CHECK_PIVOT: &str = "CheckPivot";
/// Ends the execution when the pivot's guard found that the pivot took effect after all and no
/// step follows it.
pub const COMMITTED: &str = "Committed";

/// Every name above.
pub const RESERVED: [&str; 10] = [
    START,
    CHECK_COMPENSATIONS,
    ESCALATE,
    CHECK_FAILURE,
    STEP_FAILED,
    COMPENSATED,
    COMPENSATION_FAILED,
    ESCALATION_FAILED,
    CHECK_PIVOT,
    COMMITTED,
];
