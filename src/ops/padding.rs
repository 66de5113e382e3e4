//! TensorFlow's SAME/VALID rule, shared by every windowed op.

use crate::error::Error;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding {
    /// Output = ceil(in / stride); zeros are added, floor(total / 2) of them before.
    Same,
    /// No padding: output = ceil((in - effective_kernel + 1) / stride).
    Valid,
}

/// Stride, dilation rate and padding of a windowed op, per spatial axis (height, width).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvOptions {
    pub strides: [usize; 2],
    pub rate: [usize; 2],
    pub padding: Padding,
}

impl ConvOptions {
    pub fn new(stride: usize, rate: usize, padding: Padding) -> Self {
        ConvOptions { strides: [stride, stride], rate: [rate, rate], padding }
    }

    pub fn valid() -> Self {
        ConvOptions::new(1, 1, Padding::Valid)
    }

    pub(crate) fn check(&self) -> Result<(), Error> {
        if self.strides.contains(&0) || self.rate.contains(&0) {
            return Err(Error::shape(format!("strides {:?} and rate {:?} must be >= 1", self.strides, self.rate)));
        }
        Ok(())
    }
}

/// One spatial axis of a windowed op: the output size and how many padded cells come before the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AxisWindow {
    pub output: usize,
    pub pad_before: usize,
}

/// TF's rule: for SAME, total padding = max((out - 1)·stride + (k - 1)·rate + 1 - in, 0) and
/// pad_before = floor(total / 2), so the extra cell of an odd total goes after.
pub fn axis_window(
    input: usize,
    kernel: usize,
    stride: usize,
    rate: usize,
    padding: Padding,
) -> Result<AxisWindow, Error> {
    let effective = (kernel - 1) * rate + 1;
    match padding {
        Padding::Same => {
            let output = input.div_ceil(stride);
            let total = ((output.max(1) - 1) * stride + effective).saturating_sub(input);
            Ok(AxisWindow { output, pad_before: total / 2 })
        }
        Padding::Valid => {
            if input < effective {
                return Err(Error::shape(format!(
                    "VALID window of {effective} (kernel {kernel}, rate {rate}) does not fit an input of {input}"
                )));
            }
            Ok(AxisWindow { output: (input - effective) / stride + 1, pad_before: 0 })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_padding_puts_the_odd_cell_after() {
        // 3x3 stride 2 on an even size: 0 before, 1 after.
        assert_eq!(axis_window(224, 3, 2, 1, Padding::Same).unwrap(), AxisWindow { output: 112, pad_before: 0 });
        assert_eq!(axis_window(7, 3, 1, 1, Padding::Same).unwrap(), AxisWindow { output: 7, pad_before: 1 });
        // The depthwise fixture: 8x9 input, k3 s2 d2 pads (top, left) = (1, 2).
        assert_eq!(axis_window(8, 3, 2, 2, Padding::Same).unwrap(), AxisWindow { output: 4, pad_before: 1 });
        assert_eq!(axis_window(9, 3, 2, 2, Padding::Same).unwrap(), AxisWindow { output: 5, pad_before: 2 });
    }

    #[test]
    fn valid_padding() {
        assert_eq!(axis_window(4, 3, 1, 1, Padding::Valid).unwrap(), AxisWindow { output: 2, pad_before: 0 });
        assert_eq!(axis_window(8, 3, 2, 1, Padding::Valid).unwrap().output, 3);
        assert!(axis_window(4, 3, 1, 2, Padding::Valid).is_err());
    }
}
