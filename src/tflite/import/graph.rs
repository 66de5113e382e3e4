//! The op list as one chain: the files flattened in order, each file's input linked to the previous file's
//! output, and walked as a linear graph.

use crate::error::{reals, Error, Real};
use crate::tflite::schema::{BuiltinOp, Model, Operator, Options, Quantization, Tensor, TensorType};

/// One op of the chained models, with where it came from for error messages.
pub(super) struct Node<'m, 'a> {
    pub file: usize,
    pub index: usize,
    pub model: &'m Model<'a>,
    pub op: &'m Operator,
}

impl<'m, 'a> Node<'m, 'a> {
    pub(super) fn fail(&self, detail: impl Into<String>) -> Error {
        let name = self.op.op.name();
        let subject = if self.file > 0 { format!("{name} in file {}", self.file + 1) } else { name };
        Error::unsupported(Some(self.index), subject, detail)
    }

    /// Input `i` (None when omitted with −1).
    pub(super) fn input(&self, i: usize) -> Result<Option<&'m Tensor<'a>>, Error> {
        match self.op.inputs.get(i) {
            None => Err(self.fail(format!("input {i} is missing"))),
            Some(&t) if t < 0 => Ok(None),
            Some(&t) => tensor(self.model, t as usize).map(Some),
        }
    }

    pub(super) fn required(&self, i: usize) -> Result<&'m Tensor<'a>, Error> {
        self.input(i)?.ok_or_else(|| self.fail(format!("input {i} is omitted")))
    }

    pub(super) fn output(&self) -> Result<&'m Tensor<'a>, Error> {
        match self.op.outputs.as_slice() {
            [t] if *t >= 0 => tensor(self.model, *t as usize),
            _ => Err(self.fail("expected exactly one output")),
        }
    }
}

fn tensor<'m, 'a>(model: &'m Model<'a>, i: usize) -> Result<&'m Tensor<'a>, Error> {
    model.tensors.get(i).ok_or_else(|| Error::malformed(format!("tensor index {i} out of range")))
}

/// The model's one input tensor (`chain` checks there is exactly one).
fn model_input<'m, 'a>(model: &'m Model<'a>) -> Result<&'m Tensor<'a>, Error> {
    only(model, &model.inputs)
}

fn model_output<'m, 'a>(model: &'m Model<'a>) -> Result<&'m Tensor<'a>, Error> {
    only(model, &model.outputs)
}

fn only<'m, 'a>(model: &'m Model<'a>, tensors: &[usize]) -> Result<&'m Tensor<'a>, Error> {
    match tensors {
        [i] => tensor(model, *i),
        _ => Err(Error::unsupported(None, "model", "expected one input and one output tensor")),
    }
}

/// Flattens the files into one op list, checking that each file's input is the previous file's output.
pub(super) fn chain<'m, 'a>(models: &'m [Model<'a>]) -> Result<Vec<Node<'m, 'a>>, Error> {
    if models.is_empty() {
        return Err(Error::malformed("no model given"));
    }
    let mut nodes = Vec::new();
    for (file, model) in models.iter().enumerate() {
        if model.inputs.len() != 1 || model.outputs.len() != 1 {
            return Err(Error::unsupported(
                None,
                format!("file {}", file + 1),
                "expected one input and one output tensor",
            ));
        }
        if let Some(prev) = file.checked_sub(1).and_then(|p| models.get(p)) {
            check_link(model_output(prev)?, model_input(model)?, file)?;
        }
        nodes.extend(model.operators.iter().enumerate().map(|(index, op)| Node { file, index, model, op }));
    }
    if nodes.is_empty() {
        return Err(Error::unsupported(None, "model", "has no operators"));
    }
    Ok(nodes)
}

fn check_link(out: &Tensor, inp: &Tensor, file: usize) -> Result<(), Error> {
    let same = out.dtype == inp.dtype && out.shape == inp.shape && quant_eq(&out.quantization, &inp.quantization);
    if !same {
        return Err(Error::shape(format!(
            "cannot chain file {} after file {}: its input {:?} {} {} does not match the output {:?} {} {}",
            file + 1,
            file,
            inp.shape,
            inp.dtype.name(),
            quant_text(&inp.quantization),
            out.shape,
            out.dtype.name(),
            quant_text(&out.quantization)
        )));
    }
    Ok(())
}

fn quant_eq(a: &Option<Quantization>, b: &Option<Quantization>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a.scale == b.scale && a.zero_point == b.zero_point,
        _ => false,
    }
}

fn quant_text(q: &Option<Quantization>) -> String {
    match q {
        None => "unquantized".into(),
        Some(q) => format!("scale {} zero point {:?}", reals(&q.scale), q.zero_point),
    }
}

/// A compute op of the chain with the activations it reads and writes; the recognizer gives it its role.
#[derive(Clone, Copy)]
pub(super) struct Step<'n, 'm, 'a> {
    pub node: &'n Node<'m, 'a>,
    pub input: &'m Tensor<'a>,
    pub output: &'m Tensor<'a>,
}

/// The chained files as one linear graph: compute ops, then optionally SOFTMAX, with QUANTIZE edges allowed.
pub(super) struct Graph<'n, 'm, 'a> {
    /// The model's input tensor, as the caller fills it.
    pub input: &'m Tensor<'a>,
    /// The model's output tensor, as the caller reads it.
    pub output: &'m Tensor<'a>,
    /// The first op: errors about the input tensor name it.
    pub first: &'n Node<'m, 'a>,
    /// The compute ops in order; relabels, edges and the SOFTMAX are checked and left out.
    pub steps: Vec<Step<'n, 'm, 'a>>,
    /// The SOFTMAX after the logits, if the network ends in one.
    pub softmax: Option<Step<'n, 'm, 'a>>,
}

/// Walks the ops as one linear chain, keeping the compute ops. RESHAPE and SQUEEZE only relabel shapes; constant
/// DEQUANTIZE ops were folded into weights; a QUANTIZE may only shift uint8 ↔ int8 at the input or the output
/// (a full-integer model's edges), and after SOFTMAX nothing but that QUANTIZE may come.
pub(super) fn linearise<'n, 'm, 'a>(nodes: &'n [Node<'m, 'a>]) -> Result<Graph<'n, 'm, 'a>, Error> {
    let (Some(first), Some(last)) = (nodes.first(), nodes.last()) else {
        return Err(Error::unsupported(None, "model", "has no operators"));
    };
    let input = model_input(first.model)?;
    let mut current = input;
    let mut steps = Vec::new();
    let mut softmax = None;
    let mut output_edge = false;
    let mut prev_file = first.file;
    for node in nodes {
        if node.op.op == BuiltinOp::Dequantize && node.output()?.data.is_some() {
            continue; // folded: its output is a constant now
        }
        let read = node.required(0)?;
        // At a file boundary the next file's input stands for the previous output (checked equal).
        let links = node.file != prev_file && std::ptr::eq(read, model_input(node.model)?);
        if !std::ptr::eq(read, current) && !links {
            return Err(node.fail("does not read the previous operator's output: only linear networks are supported"));
        }
        if output_edge {
            return Err(node.fail("comes after the output QUANTIZE"));
        }
        let output = node.output()?;
        match &node.op.op {
            BuiltinOp::Quantize
                if steps.is_empty() || softmax.is_some() || node.index + 1 == node.model.operators.len() =>
            {
                check_edge(node, read, output)?;
                output_edge = !steps.is_empty();
            }
            _ if softmax.is_some() => return Err(node.fail("comes after SOFTMAX")),
            BuiltinOp::Conv2d
            | BuiltinOp::DepthwiseConv2d
            | BuiltinOp::AveragePool2d
            | BuiltinOp::Mean
            | BuiltinOp::FullyConnected => steps.push(Step { node, input: read, output }),
            BuiltinOp::Reshape | BuiltinOp::Squeeze => check_relabel(node, read, output)?,
            BuiltinOp::Softmax => {
                check_softmax(node, read, output)?;
                softmax = Some(Step { node, input: read, output });
            }
            BuiltinOp::Quantize => return Err(node.fail("in the middle of the network: only at its input or output")),
            other => {
                return Err(node.fail(format!(
                    "{} is not supported (a MobileNet v1 runs CONV_2D, DEPTHWISE_CONV_2D, AVERAGE_POOL_2D or MEAN, \
                 FULLY_CONNECTED, RESHAPE, SQUEEZE, SOFTMAX, and QUANTIZE / DEQUANTIZE at its edges)",
                    other.name()
                )))
            }
        }
        current = output;
        prev_file = node.file;
    }
    let output = model_output(last.model)?;
    if !std::ptr::eq(current, output) {
        return Err(last.fail("the graph output is not the last operator's output"));
    }
    Ok(Graph { input, output, first, steps, softmax })
}

/// A QUANTIZE at the model's edge: uint8 ↔ int8 with one scale and zero points 128 apart is the same real
/// value with the same bytes once shifted by 128, which is how the engine runs int8; anything else would
/// change values, and is refused rather than approximated.
fn check_edge(node: &Node, input: &Tensor, output: &Tensor) -> Result<(), Error> {
    let integer = |t: &Tensor| matches!(t.dtype, TensorType::Uint8 | TensorType::Int8);
    if !integer(input) {
        return Err(node.fail(format!(
            "QUANTIZE from {}: only integer inputs are supported; convert with \
             converter.inference_input_type = tf.uint8 (or tf.int8)",
            input.dtype.name()
        )));
    }
    let params = |t: &Tensor| match &t.quantization {
        Some(q) if q.scale.len() == 1 && q.zero_point.len() <= 1 => {
            let zp = q.zero_point.first().copied().unwrap_or(0);
            Some((q.scale[0].to_bits(), zp + if t.dtype == TensorType::Int8 { 128 } else { 0 }))
        }
        _ => None,
    };
    match (params(input), params(output), integer(output)) {
        (Some(a), Some(b), true) if a == b && input.elements() == output.elements() => Ok(()),
        _ => Err(node.fail(format!(
            "QUANTIZE from {} {} to {} {}: only the uint8 <-> int8 shift at a full-integer model's edges \
             (one scale, zero points 128 apart) is supported",
            input.dtype.name(),
            quant_text(&input.quantization),
            output.dtype.name(),
            quant_text(&output.quantization)
        ))),
    }
}

fn check_relabel(node: &Node, input: &Tensor, output: &Tensor) -> Result<(), Error> {
    if input.elements() != output.elements()
        || input.dtype != output.dtype
        || !quant_eq(&input.quantization, &output.quantization)
    {
        return Err(node.fail("changes the number of elements or the quantization"));
    }
    Ok(())
}

fn check_softmax(node: &Node, input: &Tensor, output: &Tensor) -> Result<(), Error> {
    match node.op.options {
        Options::Softmax { beta: 1.0 } => {}
        Options::Softmax { beta } => return Err(node.fail(format!("beta {} (only 1 is supported)", Real::from(beta)))),
        _ => return Err(node.fail("missing SoftmaxOptions")),
    }
    if input.shape != output.shape || input.dtype != output.dtype {
        return Err(node.fail("output shape or type differs from the input"));
    }
    Ok(())
}

/// Shape of an activation as (h, w, c): 4-D [1, h, w, c] or 2-D [1, c].
pub(super) fn hwc(node: &Node, t: &Tensor) -> Result<[usize; 3], Error> {
    match t.shape.as_slice() {
        [1, h, w, c] => Ok([*h, *w, *c]),
        [1, c] => Ok([1, 1, *c]),
        s => Err(node.fail(format!("activation shape {s:?} is not [1, h, w, c] (batch 1)"))),
    }
}
