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
    // Whether class a ranks after class b.
    let after = |a: usize, b: usize| scores[a].total_cmp(&scores[b]).then(b.cmp(&a)).is_lt();
    heap_sort(&mut order, after);
    order.into_iter().take(k).map(|index| Prediction { index, score: scores[index] }).collect()
}

/// In-place heapsort by `after` (a small O(n log n) sort: the standard library's sorts add ~9 KB to the .wasm).
fn heap_sort(v: &mut [usize], after: impl Fn(usize, usize) -> bool) {
    // Sift down in a heap whose root ranks last, so popping roots to the end leaves the best first.
    let sift = |v: &mut [usize], mut root: usize, end: usize| loop {
        let mut child = 2 * root + 1;
        if child >= end {
            break;
        }
        if child + 1 < end && after(v[child + 1], v[child]) {
            child += 1;
        }
        if !after(v[child], v[root]) {
            break;
        }
        v.swap(root, child);
        root = child;
    };
    for start in (0..v.len() / 2).rev() {
        sift(v, start, v.len());
    }
    for end in (1..v.len()).rev() {
        v.swap(0, end);
        sift(v, 0, end);
    }
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

    #[test]
    fn ranks_like_a_stable_sort_on_random_scores() {
        let mut rng = crate::rng::Rng::new(3);
        for n in [0, 1, 2, 7, 100, 1001] {
            // Few distinct values, so ties are common.
            let scores: Vec<f32> = (0..n).map(|_| (rng.range(0, 9) as f32) / 8.0).collect();
            let mut want: Vec<usize> = (0..n).collect();
            want.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
            let got: Vec<usize> = super::top_k(&scores, n).iter().map(|p| p.index).collect();
            assert_eq!(got, want, "{n} scores");
        }
    }
}
