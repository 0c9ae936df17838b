//! The emitters: one validated [`Saga`](crate::model::Saga) in, one artefact out.

pub mod asl;
pub mod manifest;
pub mod mermaid;
pub mod rust;
