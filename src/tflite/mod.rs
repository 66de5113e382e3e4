//! TFLite model files: a reader that verifies the flatbuffer before anything is read from it, and the
//! import that maps a verified model onto the engine's plan.

pub mod import;
pub mod reader;
pub mod schema;
pub mod zip;

pub use reader::read;
pub use schema::Model;
