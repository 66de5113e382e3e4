//! Nearest neighbours by cosine similarity, like @tensorflow-models/knn-classifier: for one or a few
//! examples per class, where a trained head would have too little to go on.

use super::head::check_examples;
use crate::error::{Error, Real};
use crate::predictions::top_k;

/// Examples kept L2-normalised, so a dot product with a normalised query is their cosine similarity.
#[derive(Clone, Debug, PartialEq)]
pub struct Neighbours {
    dim: usize,
    /// L2-normalised rows (a zero row stays zero: similarity 0 to everything).
    examples: Vec<f32>,
    labels: Vec<usize>,
    classes: usize,
}

impl Neighbours {
    /// Keeps `embeddings` (n rows of `dim` floats, flat) with `labels[i] < classes`; the same checks as training
    /// a head: at least 2 classes, each with an example, finite values.
    #[cfg_attr(feature = "small", optimize(size))]
    pub fn new(embeddings: &[f32], dim: usize, labels: &[usize], classes: usize) -> Result<Self, Error> {
        check_examples(embeddings, dim, labels, classes)?;
        let mut examples = embeddings.to_vec();
        examples.chunks_exact_mut(dim).for_each(normalise);
        Ok(Neighbours { dim, examples, labels: labels.to_vec(), classes })
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Per class, the share of the k most similar examples that belong to it (knn-classifier's `confidences`),
    /// in class order; ties between equally similar examples broken by lower example index. A `k` larger than
    /// the examples uses them all.
    pub fn confidences(&self, embedding: &[f32], k: usize) -> Result<Vec<f32>, Error> {
        if k == 0 {
            return Err(Error::teach("k must be at least 1"));
        }
        if embedding.len() != self.dim {
            return Err(Error::shape(format!(
                "embedding has {} values, the examples have {}",
                embedding.len(),
                self.dim
            )));
        }
        if let Some(i) = embedding.iter().position(|x| !x.is_finite()) {
            return Err(Error::NonFinite(format!("embedding value {i} is {}", Real::from(embedding[i]))));
        }
        let mut query = embedding.to_vec();
        normalise(&mut query);
        // `+ 0.0` turns a -0 into 0, so that it ties with 0 (top_k orders by total_cmp).
        let similarity = |row: &[f32]| {
            (row.iter().zip(&query).map(|(&a, &b)| f64::from(a) * f64::from(b)).sum::<f64>() + 0.0) as f32
        };
        let similarities: Vec<f32> = self.examples.chunks_exact(self.dim).map(similarity).collect();
        let nearest = top_k(&similarities, k);
        let mut votes = vec![0usize; self.classes];
        for p in &nearest {
            votes[self.labels[p.index]] += 1;
        }
        Ok(votes.iter().map(|&v| v as f32 / nearest.len() as f32).collect())
    }
}

/// Scales `v` to unit length (in f64, so huge or tiny values neither overflow nor vanish); leaves zero alone.
fn normalise(v: &mut [f32]) {
    let norm = v.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x = (f64::from(*x) / norm) as f32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (1, 0) of class 0, (0, 1) and (1, 1) of class 1.
    fn three() -> Neighbours {
        Neighbours::new(&[1.0, 0.0, 0.0, 1.0, 1.0, 1.0], 2, &[0, 1, 1], 2).unwrap()
    }

    #[test]
    fn three_examples_by_hand() {
        let n = three();
        // Cosines with (1, 0.2): 0.981, 0.196, 0.832, so the order is examples 0, 2, 1.
        let q = [1.0, 0.2];
        assert_eq!(n.confidences(&q, 1).unwrap(), [1.0, 0.0]);
        assert_eq!(n.confidences(&q, 2).unwrap(), [0.5, 0.5]);
        assert_eq!(n.confidences(&q, 3).unwrap(), [1.0 / 3.0, 2.0 / 3.0]);
        assert_eq!(n.confidences(&q, 10).unwrap(), [1.0 / 3.0, 2.0 / 3.0]);
        // With (0.2, 1): 0.196, 0.981, 0.832: examples 1, 2, 0.
        assert_eq!(n.confidences(&[0.2, 1.0], 1).unwrap(), [0.0, 1.0]);
        assert_eq!(n.confidences(&[0.2, 1.0], 2).unwrap(), [0.0, 1.0]);
        // With (-1, 0): -1, 0, -0.707: examples 1, 2, 0.
        assert_eq!(n.confidences(&[-1.0, 0.0], 2).unwrap(), [0.0, 1.0]);
        assert_eq!((n.dim(), n.classes()), (2, 2));
    }

    #[test]
    fn only_directions_count() {
        let n = three();
        let scaled = Neighbours::new(&[100.0, 0.0, 0.0, 0.01, 3.0, 3.0], 2, &[0, 1, 1], 2).unwrap();
        for q in [[1.0, 0.2], [0.2, 1.0], [-1.0, 0.3], [0.7, 0.6]] {
            for k in 1..=3 {
                let want = n.confidences(&q, k).unwrap();
                assert_eq!(scaled.confidences(&q.map(|v| v * 1e-3), k).unwrap(), want);
                assert_eq!(scaled.confidences(&q.map(|v| v * 1e6), k).unwrap(), want);
            }
        }
    }

    #[test]
    fn zero_vectors_have_similarity_zero() {
        let n = Neighbours::new(&[1.0, 0.0, 0.0, 0.0, -1.0, 0.0], 2, &[0, 1, 0], 2).unwrap();
        // (1, 0): 1, 0, -1, so example 1 (the zero one) comes second.
        assert_eq!(n.confidences(&[1.0, 0.0], 1).unwrap(), [1.0, 0.0]);
        assert_eq!(n.confidences(&[1.0, 0.0], 2).unwrap(), [0.5, 0.5]);
        // (-1, 0): -1, 0, 1.
        assert_eq!(n.confidences(&[-1.0, 0.0], 2).unwrap(), [0.5, 0.5]);
        // A zero query is equally similar (0) to all: the lowest indices win.
        assert_eq!(n.confidences(&[0.0, 0.0], 1).unwrap(), [1.0, 0.0]);
        assert_eq!(n.confidences(&[0.0, 0.0], 2).unwrap(), [0.5, 0.5]);
    }

    #[test]
    fn ties_go_to_the_lower_index() {
        // (2, 0) and (1, 0) normalise to the same row.
        let a = Neighbours::new(&[2.0, 0.0, 1.0, 0.0], 2, &[1, 0], 2).unwrap();
        assert_eq!(a.confidences(&[1.0, 1.0], 1).unwrap(), [0.0, 1.0]);
        let b = Neighbours::new(&[1.0, 0.0, 2.0, 0.0], 2, &[0, 1], 2).unwrap();
        assert_eq!(b.confidences(&[1.0, 1.0], 1).unwrap(), [1.0, 0.0]);
    }

    #[test]
    fn bad_arguments_are_errors() {
        let teach = |r: Result<Neighbours, Error>| matches!(r, Err(Error::Teach(_)));
        assert!(teach(Neighbours::new(&[1.0, 0.0], 2, &[0], 1)));
        assert!(teach(Neighbours::new(&[1.0, 0.0, 0.0, 1.0], 2, &[0, 0], 2)));
        assert!(teach(Neighbours::new(&[], 2, &[], 2)));
        assert!(teach(Neighbours::new(&[1.0, 0.0, 0.0], 2, &[0, 1], 2)));
        assert!(teach(Neighbours::new(&[1.0, 0.0, 0.0, 1.0], 2, &[0, 2], 2)));
        assert!(teach(Neighbours::new(&[1.0, f32::NAN, 0.0, 1.0], 2, &[0, 1], 2)));
        let n = three();
        assert!(matches!(n.confidences(&[1.0, 0.0], 0), Err(Error::Teach(_))));
        assert!(matches!(n.confidences(&[1.0, 0.0, 0.0], 1), Err(Error::Shape(_))));
        assert!(matches!(n.confidences(&[f32::NAN, 0.0], 1), Err(Error::NonFinite(_))));
    }
}
