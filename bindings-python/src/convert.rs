//! JSON values to Python objects and back (for `raw`, usage, the
//! emulator's admin API and webhook events).

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Number, Value};

pub fn json_to_py(py: Python<'_>, value: &Value) -> PyResult<Py<PyAny>> {
    Ok(match value {
        Value::Null => py.None(),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any().unbind(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any().unbind()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any().unbind()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any().unbind()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any().unbind(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(json_to_py(py, item)?)?;
            }
            list.into_any().unbind()
        }
        Value::Object(map) => map_to_py(py, map)?.into_any().unbind(),
    })
}

pub fn map_to_py<'py>(py: Python<'py>, map: &Map<String, Value>) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (k, v) in map {
        dict.set_item(k, json_to_py(py, v)?)?;
    }
    Ok(dict)
}

/// A Python value made of dicts, lists, tuples, strings, numbers, bools and
/// None, as JSON. `what` names the argument in errors.
pub fn py_to_json(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Value> {
    to_json(obj, what, 0)
}

/// The string's text; a lone surrogate is a ValueError that does not keep the
/// string (pyo3's UnicodeEncodeError would, and it may be a token).
fn sendable(s: &Bound<'_, PyString>, what: &str) -> PyResult<String> {
    s.extract::<String>().map_err(|_| {
        PyValueError::new_err(format!("{what}: a string holds a lone surrogate: it is not text that can be sent"))
    })
}

/// As deep as serde_json reads: deeper, or a list that holds itself, would
/// overflow the stack (a segfault) before anything could be refused.
const MAX_DEPTH: usize = 128;

fn to_json(obj: &Bound<'_, PyAny>, what: &str, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err(format!(
            "{what}: nested more than {MAX_DEPTH} levels deep (or it contains itself)"
        )));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Value::from(i));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(Value::from(u));
        }
        return Err(PyValueError::new_err(format!("{what}: integer out of range")));
    }
    if obj.is_instance_of::<PyFloat>() {
        let f: f64 = obj.extract()?;
        return Number::from_f64(f)
            .map(Value::Number)
            .ok_or_else(|| PyValueError::new_err(format!("{what}: {f} is not a JSON number")));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(sendable(s, what)?));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = Map::new();
        for (k, v) in d.iter() {
            let key =
                k.cast::<PyString>().map_err(|_| PyTypeError::new_err(format!("{what}: dict keys must be strings")))?;
            let key = sendable(key, what)?;
            map.insert(key, to_json(&v, what, depth + 1)?);
        }
        return Ok(Value::Object(map));
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let mut items = Vec::new();
        for item in obj.try_iter()? {
            items.push(to_json(&item?, what, depth + 1)?);
        }
        return Ok(Value::Array(items));
    }
    // Enums with a value (Folder, Platform, str-valued enums of the user's).
    if let Ok(value) = obj.getattr("value") {
        return to_json(&value, what, depth + 1);
    }
    Err(PyTypeError::new_err(format!(
        "{what}: cannot send a {} as JSON",
        obj.get_type().name().map(|n| n.to_string()).unwrap_or_default()
    )))
}
