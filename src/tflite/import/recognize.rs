//! Which MobileNet v1 the compute layers form: alpha, resolution, output stride and classes.

use super::graph::{hwc, Found};
use super::validate::{check_layers, shapes_match};
use crate::arch::{Config, Resolution};
use crate::error::Error;
use crate::tflite::schema::Tensor;

/// Alpha, resolution, output stride and classes from the layer list; the caller then checks every layer.
pub(super) fn infer_config(input: &Tensor, layers: &[Found]) -> Result<Config, Error> {
    let expected = Config::default().layers();
    if layers.len() != expected.len() {
        let at = layers.get(expected.len().min(layers.len()).saturating_sub(1)).map(|f| f.node);
        let detail = format!(
            "not a MobileNet v1: found {} compute layers (conv, depthwise, pointwise, pool, logits), expected {}",
            layers.len(),
            expected.len()
        );
        return Err(match at {
            Some(node) => node.fail(detail),
            None => Error::unsupported(None, "model", detail),
        });
    }
    for (found, want) in layers.iter().zip(&expected) {
        if found.kind != want.op {
            return Err(found.node.fail(format!(
                "found a {} layer where MobileNet v1 has {} ({})",
                found.kind.name(),
                want.op.name(),
                want.name
            )));
        }
    }
    let stem = &layers[0];
    let [h, w, c] = hwc(stem.node, input)?;
    if c != 3 {
        return Err(stem.node.fail(format!("input has {c} channels, MobileNet v1 takes 3 (RGB)")));
    }
    let depth = hwc(layers[26].node, layers[26].output)?[2];
    let classes = hwc(layers[28].node, layers[28].output)?[2];
    let base = Config::default()
        .with_resolution(Resolution { height: h, width: w })
        .and_then(|c| c.with_num_classes(classes))
        .map_err(|e| stem.node.fail(e.to_string()))?;
    for alpha in alpha_candidates(depth) {
        for os in [32, 16, 8] {
            let Ok(cfg) = base.with_alpha(alpha).and_then(|c| c.with_output_stride(os)) else { continue };
            if shapes_match(&cfg, layers) {
                return Ok(cfg);
            }
        }
    }
    // No configuration fits: report the first layer that differs from the closest one.
    let cfg = base.with_alpha(depth as f64 / 1024.0).map_err(|e| stem.node.fail(e.to_string()))?;
    check_layers(&cfg, layers)?;
    Err(stem.node.fail("no MobileNet v1 configuration matches the layer shapes"))
}

/// Alpha from the last depth (1024·alpha): the two-decimal value first (0.25, 0.35, 0.75 …), then exact.
fn alpha_candidates(depth: usize) -> Vec<f64> {
    let exact = depth as f64 / 1024.0;
    let rounded = (exact * 100.0).round() / 100.0;
    let mut v = vec![rounded, (exact * 1000.0).round() / 1000.0, exact];
    v.dedup();
    v.retain(|a| *a > 0.0);
    v
}
