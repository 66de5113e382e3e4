//! The JavaScript API (`#[wasm_bindgen]`): the only code that knows about JS; it holds no math. Every failure
//! is thrown as a JS `Error` whose message starts with the error kind; nothing panics.
//!
//! Two builds bind two APIs: the engine's ([`model`]: models, inspector, pixels; [`timing`]: latency of
//! configurations and blocks) and, with the `teach` feature, the teaching module ([`teach`]: training heads,
//! exporting .tflite files; [`worked`]: the worked example's reference ops), a separate .wasm that a page
//! downloads only when it teaches or shows the worked example.

use crate::error::Error;
use serde::Serialize;
use wasm_bindgen::prelude::*;

#[cfg(not(feature = "teach"))]
mod model;
#[cfg(not(feature = "teach"))]
pub use model::*;
#[cfg(not(feature = "teach"))]
mod timing;
#[cfg(not(feature = "teach"))]
pub use timing::*;
#[cfg(feature = "teach")]
mod worked;
#[cfg(feature = "teach")]
pub use worked::*;
#[cfg(feature = "teach")]
mod teach;
#[cfg(feature = "teach")]
pub use teach::*;

/// A JS `Error` whose message is "kind: message" and whose own `kind` property is `e.kind()`.
fn js_error(e: Error) -> JsValue {
    let error = js_sys::Error::new(&format!("{}: {e}", e.kind()));
    // Setting a property on a fresh Error object cannot fail.
    let _ = js_sys::Reflect::set(&error, &JsValue::from_str("kind"), &JsValue::from_str(e.kind()));
    error.into()
}

#[cfg_attr(feature = "small", optimize(size))]
fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    // Plain objects, not Maps, so JS code can read fields with dots.
    let s = serde_wasm_bindgen::Serializer::json_compatible();
    value.serialize(&s).map_err(|e| JsError::new(&format!("serialize: {e}")).into())
}

/// An array of strings from JS, or a typed error naming `what`.
fn strings(value: &JsValue, what: &str) -> Result<Vec<String>, JsValue> {
    let bad = || js_error(Error::shape(format!("{what} must be an array of strings")));
    if !js_sys::Array::is_array(value) {
        return Err(bad());
    }
    js_sys::Array::from(value).iter().map(|v| v.as_string().ok_or_else(bad)).collect()
}
