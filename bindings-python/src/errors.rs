//! Turns core errors into the exception classes of
//! `messenger_handover.errors` (defined in Python, looked up once).

use messenger_handover::InputProblem;
use messenger_handover::{Error, TransportFailure};
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyModule};

use crate::convert::json_to_py;

fn errors_module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    MODULE.get_or_try_init(py, || Ok(py.import("messenger_handover.errors")?.unbind())).map(|m| m.bind(py))
}

/// The Python exception for a core error. Bad arguments become a plain
/// `ValueError` naming the argument (with `.argument` set); everything else
/// an instance of the class for its kind, with every attribute filled.
pub fn to_pyerr(py: Python<'_>, err: Error) -> PyErr {
    match build(py, &err) {
        Ok(e) => e,
        // The errors module could not be imported: still say what happened.
        Err(import_failure) => {
            let e = PyRuntimeError::new_err(err.to_string());
            e.set_cause(py, Some(import_failure));
            e
        }
    }
}

fn build(py: Python<'_>, err: &Error) -> PyResult<PyErr> {
    if let Error::Transport { failure: TransportFailure::Closed, .. } = err {
        // Same answer as a call on the closed client itself.
        return Ok(PyRuntimeError::new_err("the client is closed"));
    }
    if let Some((argument, problem)) = err.input_problem() {
        // The core says what kind of problem it is; no table of names here.
        let exc = match problem {
            InputProblem::Type => PyTypeError::new_err(err.to_string()),
            InputProblem::Value | InputProblem::Range => PyValueError::new_err(err.to_string()),
        };
        let value = exc.into_value(py);
        value.bind(py).setattr("argument", argument)?;
        return Ok(PyErr::from_value(value.into_bound(py).into_any()));
    }
    // The core names the class and its attributes (the generated errors.py
    // declares the same ones): nothing here knows a Graph field.
    let Some(class_name) = err.class_name() else {
        return Ok(PyRuntimeError::new_err(err.to_string()));
    };
    let kwargs = PyDict::new(py);
    for (name, value) in err.attributes() {
        kwargs.set_item(name, json_to_py(py, &value)?)?;
    }
    let message = match err {
        Error::Graph(g) => g.to_string(),
        other => other.to_string(),
    };
    let class = errors_module(py)?.getattr(class_name)?;
    let instance = class.call((message,), Some(&kwargs))?;
    Ok(PyErr::from_value(instance))
}
