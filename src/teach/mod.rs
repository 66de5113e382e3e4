//! Teaching the network new classes: a small head trained on the embeddings (`AvgPool_1a`) of examples,
//! nearest neighbours for one example per class, and the export of backbone + head as a standard .tflite.

pub mod export;
pub mod head;
pub mod knn;
