//! Every found layer checked against the architecture it was recognized as.

use super::convert::le_i32;
use super::graph::hwc;
use super::recognize::Found;
use crate::arch::{Config, LayerSpec, OpKind};
use crate::error::{Error, Real};
use crate::tflite::schema::{Activation, BuiltinOp, Operator, Options, Padding, TensorType};

/// Whether every layer has the shapes and options `cfg` gives it: how recognition tries configurations.
pub(super) fn shapes_match(cfg: &Config, layers: &[Found]) -> bool {
    cfg.layers().iter().zip(layers).all(|(spec, f)| {
        let (i, o) = (hwc(f.node, f.input), hwc(f.node, f.output));
        matches!((i, o), (Ok(i), Ok(o)) if i == [spec.input.h, spec.input.w, spec.input.c]
            && o == [spec.output.h, spec.output.w, spec.output.c])
            && options_match(spec, f.node.op).is_ok()
    })
}

/// Checks each found layer against the architecture: shapes, kernel, stride, dilation, padding, activation.
#[cfg_attr(feature = "small", optimize(size))]
pub(super) fn check_layers(cfg: &Config, layers: &[Found]) -> Result<(), Error> {
    for (spec, f) in cfg.layers().iter().zip(layers) {
        let (i, o) = (hwc(f.node, f.input)?, hwc(f.node, f.output)?);
        let (wi, wo) = ([spec.input.h, spec.input.w, spec.input.c], [spec.output.h, spec.output.w, spec.output.c]);
        if i != wi || o != wo {
            return Err(f.node.fail(format!(
                "{}: shapes {i:?} -> {o:?}, MobileNet v1 alpha {} has {wi:?} -> {wo:?}",
                spec.name,
                Real(cfg.alpha)
            )));
        }
        options_match(spec, f.node.op).map_err(|d| f.node.fail(format!("{}: {d}", spec.name)))?;
        check_filter(spec, f)?;
    }
    Ok(())
}

fn options_match(spec: &LayerSpec, op: &Operator) -> Result<(), String> {
    let want_act = spec.activation;
    let one_by_one = spec.kernel == [1, 1];
    let window = |padding: Padding, stride: [i32; 2], dilation: [i32; 2], act: Activation| -> Result<(), String> {
        let s = spec.stride as i32;
        let r = spec.rate as i32;
        if stride != [s, s] {
            return Err(format!("stride {stride:?}, expected {s}"));
        }
        if !one_by_one && dilation != [r, r] {
            return Err(format!("dilation {dilation:?}, expected {r}"));
        }
        if padding != Padding::Same && !one_by_one {
            return Err("VALID padding, expected SAME".into());
        }
        if act.fused().ok() != Some(want_act) {
            return Err(format!("fused activation {act:?}, expected {want_act:?}"));
        }
        Ok(())
    };
    match (&op.options, spec.op) {
        (Options::Conv2d { padding, stride, dilation, activation }, _) => {
            window(*padding, *stride, *dilation, *activation)
        }
        (Options::DepthwiseConv2d { padding, stride, dilation, depth_multiplier, activation }, OpKind::Depthwise) => {
            if *depth_multiplier != 1 {
                return Err(format!("depth_multiplier {depth_multiplier}, MobileNet v1 uses 1"));
            }
            window(*padding, *stride, *dilation, *activation)
        }
        (Options::Pool2d { filter, activation, .. }, OpKind::AvgPool) => {
            let whole = [spec.input.h as i32, spec.input.w as i32];
            if *filter != whole {
                return Err(format!("pool window {filter:?}, expected the whole {whole:?} map"));
            }
            (*activation == Activation::None)
                .then_some(())
                .ok_or_else(|| format!("fused activation {activation:?} on the pool"))
        }
        (Options::Reducer { .. }, OpKind::AvgPool) => Ok(()),
        (Options::FullyConnected { activation, weights_format, .. }, OpKind::Dense | OpKind::Logits) => {
            if *weights_format != 0 {
                return Err(format!("weights format {weights_format} (only the default layout is supported)"));
            }
            (activation.fused().ok() == Some(want_act))
                .then_some(())
                .ok_or_else(|| format!("fused activation {activation:?}, expected {want_act:?}"))
        }
        (Options::None, _) => Err("options missing".into()),
        _ => Err(format!("options of another operator than a {} layer", spec.op.name())),
    }
}

/// The filter of a conv layer as TFLite stores it: conv OHWI, depthwise [1, kh, kw, C], FC [out, in].
fn check_filter(spec: &LayerSpec, f: &Found) -> Result<(), Error> {
    if spec.op == OpKind::AvgPool {
        return check_mean_axes(f);
    }
    let filter = f.node.required(1)?;
    let [kh, kw] = spec.kernel;
    let (cin, cout) = (spec.input.c, spec.output.c);
    let want: Vec<usize> = match (&f.node.op.op, spec.op) {
        (BuiltinOp::DepthwiseConv2d, _) => vec![1, kh, kw, cout],
        (BuiltinOp::FullyConnected, _) => vec![cout, cin],
        _ => vec![cout, kh, kw, cin],
    };
    if filter.shape != want {
        return Err(f.node.fail(format!("{}: filter shape {:?}, expected {want:?}", spec.name, filter.shape)));
    }
    if filter.data.is_none() {
        return Err(f.node.fail(format!("{}: filter is not a constant", spec.name)));
    }
    if let Some(bias) = f.node.input(2)? {
        if bias.shape != [cout] || bias.data.is_none() {
            return Err(f.node.fail(format!("{}: bias shape {:?}, expected [{cout}] constant", spec.name, bias.shape)));
        }
    }
    Ok(())
}

fn check_mean_axes(f: &Found) -> Result<(), Error> {
    if f.node.op.op != BuiltinOp::Mean {
        return Ok(());
    }
    let axes = f.node.required(1)?;
    let values = match (axes.dtype, axes.data) {
        (TensorType::Int32, Some(d)) => le_i32(d),
        _ => return Err(f.node.fail("axes must be a constant INT32 tensor")),
    };
    if !(values.len() == 2 && values.contains(&1) && values.contains(&2)) {
        return Err(f.node.fail(format!("MEAN over axes {values:?}; only axes [1, 2] (global pool) is supported")));
    }
    Ok(())
}
