//! From probabilities to ranked classes.

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Prediction {
    pub index: usize,
    pub score: f32,
}

/// The `k` highest scores, best first; ties go to the lower index (as TFLite's reference top-5 does).
pub fn top_k(scores: &[f32], k: usize) -> Vec<Prediction> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    order.into_iter().take(k).map(|index| Prediction { index, score: scores[index] }).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn best_first_ties_by_index() {
        let p = super::top_k(&[0.1, 0.5, 0.2, 0.5, 0.0], 3);
        let idx: Vec<usize> = p.iter().map(|p| p.index).collect();
        assert_eq!(idx, [1, 3, 2]);
        assert_eq!(super::top_k(&[1.0], 5).len(), 1);
    }
}
