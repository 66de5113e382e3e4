//! Where every multiply-add goes: per-layer params and MACs, totals, shares by layer type, and what each
//! depthwise-separable block saves against a standard 3x3 convolution. Pure functions of [`crate::arch`].

use crate::arch::{Config, Hwc, LayerSpec, OpKind};
use serde::Serialize;

/// How we count, printed next to every total.
pub const CONVENTION: &str = "MACs = multiply-adds of the conv, depthwise, pointwise and logits weights \
(one per weight per output position); params = those weights only (no biases, no batch-norm); \
the average pool and softmax cost nothing here.";

/// One row of the inspector table: the layer as [`crate::arch`] describes it, and what it costs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerCost {
    #[serde(flatten)]
    pub layer: LayerSpec,
    pub params: u64,
    pub macs: u64,
}

/// A cost row reads as the layer it costs (`row.name`, `row.output`).
impl std::ops::Deref for LayerCost {
    type Target = LayerSpec;

    fn deref(&self) -> &LayerSpec {
        &self.layer
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub params: u64,
    pub macs: u64,
}

/// The part of the totals one layer type carries.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Share {
    pub op: OpKind,
    pub params: u64,
    pub macs: u64,
    pub params_percent: f64,
    pub macs_percent: f64,
}

/// A separable block against the standard 3x3 conv with the same input, output and stride.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SeparableSaving {
    /// "Conv2d_1" … "Conv2d_13", or "total" for the sum over all blocks.
    pub block: String,
    pub in_channels: usize,
    pub out_channels: usize,
    pub separable: Totals,
    pub standard: Totals,
    /// separable / standard MACs (= params ratio); the paper's 1/N + 1/Dk².
    pub ratio: f64,
    /// 1/N + 1/Dk² with N = out_channels, Dk = 3 (none for the total: no single N).
    pub predicted_ratio: Option<f64>,
}

/// Everything the inspector shows for one configuration.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub config: Config,
    pub convention: &'static str,
    pub layers: Vec<LayerCost>,
    pub totals: Totals,
    pub shares: Vec<Share>,
    pub separable: Vec<SeparableSaving>,
}

/// Weights of one layer under our convention.
pub fn params(l: &LayerSpec) -> u64 {
    let [kh, kw] = l.kernel;
    let (cin, cout) = (l.input.c as u64, l.output.c as u64);
    match l.op {
        OpKind::Conv | OpKind::Pointwise | OpKind::Dense | OpKind::Logits => (kh * kw) as u64 * cin * cout,
        OpKind::Depthwise => (kh * kw) as u64 * cout,
        OpKind::AvgPool => 0,
    }
}

/// Multiply-adds of one layer: every weight is used once per output position.
pub fn macs(l: &LayerSpec) -> u64 {
    params(l) * (l.output.h * l.output.w) as u64
}

pub fn layer_costs(cfg: &Config) -> Vec<LayerCost> {
    cfg.layers().iter().map(|l| LayerCost { params: params(l), macs: macs(l), layer: l.clone() }).collect()
}

pub fn totals(layers: &[LayerCost]) -> Totals {
    layers.iter().fold(Totals::default(), |t, l| Totals { params: t.params + l.params, macs: t.macs + l.macs })
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

pub fn shares(layers: &[LayerCost]) -> Vec<Share> {
    let all = totals(layers);
    OpKind::ALL
        .iter()
        // A head's Dense layers are listed only where the network has them.
        .filter(|&&op| op != OpKind::Dense || layers.iter().any(|l| l.layer.op == op))
        .map(|&op| {
            let of_op: Vec<LayerCost> = layers.iter().filter(|l| l.layer.op == op).cloned().collect();
            let t = totals(&of_op);
            Share {
                op,
                params: t.params,
                macs: t.macs,
                params_percent: percent(t.params, all.params),
                macs_percent: percent(t.macs, all.macs),
            }
        })
        .collect()
}

/// Cost of a standard 3x3 conv (same in/out channels and output size) in place of one separable block.
pub fn standard_conv_cost(input: Hwc, output: Hwc) -> Totals {
    let params = 9 * input.c as u64 * output.c as u64;
    Totals { params, macs: params * (output.h * output.w) as u64 }
}

fn saving(block: String, cin: usize, cout: usize, separable: Totals, standard: Totals) -> SeparableSaving {
    SeparableSaving {
        block,
        in_channels: cin,
        out_channels: cout,
        separable,
        standard,
        ratio: separable.macs as f64 / standard.macs.max(1) as f64,
        predicted_ratio: Some(1.0 / cout as f64 + 1.0 / 9.0),
    }
}

/// One row per separable block, then a "total" row over all of them.
pub fn separable_savings(layers: &[LayerCost]) -> Vec<SeparableSaving> {
    let mut rows = Vec::new();
    for pair in layers.windows(2) {
        let (dw, pw) = (&pair[0], &pair[1]);
        if dw.layer.op != OpKind::Depthwise || pw.layer.op != OpKind::Pointwise {
            continue;
        }
        let block = dw.layer.name.trim_end_matches("_depthwise").to_string();
        let sep = Totals { params: dw.params + pw.params, macs: dw.macs + pw.macs };
        let std = standard_conv_cost(dw.layer.input, pw.layer.output);
        rows.push(saving(block, dw.layer.input.c, pw.layer.output.c, sep, std));
    }
    let sum = |f: fn(&SeparableSaving) -> Totals| {
        rows.iter().map(f).fold(Totals::default(), |a, b| Totals { params: a.params + b.params, macs: a.macs + b.macs })
    };
    let (sep, std) = (sum(|r| r.separable), sum(|r| r.standard));
    if let Some(last) = rows.last() {
        let mut total = saving("total".into(), 0, last.out_channels, sep, std);
        total.in_channels = rows[0].in_channels;
        total.predicted_ratio = None;
        rows.push(total);
    }
    rows
}

#[cfg_attr(feature = "small", optimize(size))]
pub fn report(cfg: &Config) -> Report {
    let layers = layer_costs(cfg);
    Report {
        config: cfg.clone(),
        convention: CONVENTION,
        totals: totals(&layers),
        shares: shares(&layers),
        separable: separable_savings(&layers),
        layers,
    }
}

/// The seed's example of why separable convs are cheap: weights of a 3x3 conv from `cin` to `cout`
/// channels, standard vs depthwise + pointwise.
pub fn weights_standard_vs_separable(cin: usize, cout: usize) -> (usize, usize) {
    (9 * cin * cout, 9 * cin + cin * cout)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::Resolution;

    fn totals_for(alpha: f64, resolution: usize) -> Totals {
        let cfg = Config::new(alpha, resolution).unwrap().with_num_classes(1000).unwrap();
        report(&cfg).totals
    }

    #[test]
    fn paper_table_6_width_multiplier() {
        assert_eq!(totals_for(1.0, 224), Totals { macs: 568_740_352, params: 4_209_088 });
        assert_eq!(totals_for(0.75, 224), Totals { macs: 325_400_448, params: 2_568_144 });
        assert_eq!(totals_for(0.5, 224), Totals { macs: 149_497_088, params: 1_319_648 });
        assert_eq!(totals_for(0.25, 224), Totals { macs: 41_030_272, params: 463_600 });
    }

    #[test]
    fn paper_table_7_resolution_multiplier() {
        assert_eq!(totals_for(1.0, 192).macs, 418_121_728);
        assert_eq!(totals_for(1.0, 160).macs, 290_675_200);
        assert_eq!(totals_for(1.0, 128).macs, 186_400_768);
        assert_eq!(totals_for(1.0, 128).params, 4_209_088, "resolution does not change params");
    }

    #[test]
    fn paper_table_2_share_of_1x1_convs() {
        let cfg = Config::default().with_num_classes(1000).unwrap();
        let r = report(&cfg);
        let pw = r.shares.iter().find(|s| s.op == OpKind::Pointwise).unwrap();
        assert_eq!(format!("{:.2}", pw.macs_percent), "94.86");
        assert_eq!(format!("{:.2}", pw.params_percent), "74.59");
        let sum: f64 = r.shares.iter().map(|s| s.macs_percent).sum();
        assert!((sum - 100.0).abs() < 1e-9);
    }

    #[test]
    fn seed_parameter_example() {
        assert_eq!(weights_standard_vs_separable(3, 256), (6_912, 795));
    }

    #[test]
    fn separable_ratio_is_one_over_n_plus_one_over_nine() {
        let r = report(&Config::default());
        assert_eq!(r.separable.len(), 14);
        for row in &r.separable[..13] {
            assert!((row.ratio - row.predicted_ratio.unwrap()).abs() < 1e-12, "{row:?}");
            assert_eq!(row.separable.params * (row.standard.macs / row.standard.params), row.separable.macs);
        }
        let total = &r.separable[13];
        assert_eq!(total.block, "total");
        assert!(total.ratio > 0.1 && total.ratio < 0.125, "{}", total.ratio);
    }

    #[test]
    fn first_block_by_hand() {
        let l = layer_costs(&Config::default());
        // Conv2d_0: 3x3x3x32 weights at 112x112.
        assert_eq!((l[0].params, l[0].macs), (864, 864 * 112 * 112));
        // Conv2d_1_depthwise: 3x3x32 at 112x112; Conv2d_1_pointwise: 32x64 at 112x112.
        assert_eq!((l[1].params, l[1].macs), (288, 288 * 112 * 112));
        assert_eq!((l[2].params, l[2].macs), (2048, 2048 * 112 * 112));
        assert_eq!(l[27].macs, 0);
        assert_eq!((l[28].params, l[28].macs), (1024 * 1001, 1024 * 1001));
    }

    #[test]
    fn dilation_keeps_params_and_raises_macs() {
        let base = report(&Config::default());
        let os8 = report(&Config::default().with_output_stride(8).unwrap());
        assert_eq!(base.totals.params, os8.totals.params);
        assert!(os8.totals.macs > 10 * base.totals.macs / 4);
        let odd = Config::default().with_resolution(Resolution { height: 97, width: 131 }).unwrap();
        assert!(report(&odd).totals.macs > 0);
    }
}
