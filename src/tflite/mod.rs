//! TFLite model files: a reader that verifies the flatbuffer before anything is read from it, the
//! import that maps a verified model onto the engine's plan, and a writer of our own float networks.

pub mod import;
pub mod reader;
pub mod schema;
pub mod writer;
pub mod zip;

pub use reader::read;
pub use schema::Model;
