//! The view as the templates see it (`c`): each field is converted to template values when a
//! template first reads it, once for all the templates of a crate.
//!
//! A template reads a few of the view's fields, and converting all of them (every type and
//! operation of a large API) for each of the seven templates was a large part of rendering.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use minijinja::value::{Enumerator, Object, Value};

use super::view::ConnectorView;

/// The view with its converted fields; cheap to clone and shared by threads.
#[derive(Debug, Clone)]
pub(crate) struct ViewContext {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    view: ConnectorView,
    converted: Mutex<BTreeMap<&'static str, Value>>,
}

impl ViewContext {
    pub(crate) fn new(view: ConnectorView) -> Self {
        ViewContext {
            shared: Arc::new(Shared {
                view,
                converted: Mutex::default(),
            }),
        }
    }

    pub(crate) fn view(&self) -> &ConnectorView {
        &self.shared.view
    }

    /// `c` for one template: the view, with `overrides` in place of some of its fields.
    pub(crate) fn value(&self, overrides: Vec<(&'static str, Value)>) -> Value {
        Value::from_object(Fields {
            shared: Arc::clone(&self.shared),
            overrides,
        })
    }
}

impl Shared {
    fn field(&self, name: &str) -> Option<Value> {
        let name = *ConnectorView::FIELDS.iter().find(|f| **f == name)?;
        // A poisoned lock only means a conversion panicked elsewhere: the map is intact.
        let mut converted = self
            .converted
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(value) = converted.get(name) {
            return Some(value.clone());
        }
        let value = self.view.field(name)?;
        converted.insert(name, value.clone());
        Some(value)
    }
}

#[derive(Debug)]
struct Fields {
    shared: Arc<Shared>,
    overrides: Vec<(&'static str, Value)>,
}

impl Object for Fields {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let name = key.as_str()?;
        match self.overrides.iter().find(|(field, _)| *field == name) {
            Some((_, value)) => Some(value.clone()),
            None => self.shared.field(name),
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(ConnectorView::FIELDS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view() -> ConnectorView {
        let spec = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/petstore.yaml");
        let bytes = std::fs::read(spec).unwrap();
        let lowered = crate::load_connector(&bytes, &crate::Options::default()).unwrap();
        ConnectorView::new(&lowered.connector, "petstore.yaml")
    }

    /// Templates see exactly the fields, and the values, that converting the whole view gives.
    #[test]
    fn every_field_reads_as_the_whole_view_converted() {
        let view = view();
        let whole = Value::from_serialize(&view);
        let context = ViewContext::new(view);
        let c = context.value(Vec::new());
        let keys: Vec<String> = whole.try_iter().unwrap().map(|k| k.to_string()).collect();
        assert_eq!(keys, ConnectorView::FIELDS);
        for key in ConnectorView::FIELDS {
            let expected = whole.get_attr(key).unwrap();
            assert_eq!(c.get_attr(key).unwrap(), expected, "{key}");
            // Read again: from what the first read converted.
            assert_eq!(c.get_attr(key).unwrap(), expected, "{key}");
        }
        assert!(c.get_attr("nothing").unwrap().is_undefined());
    }

    #[test]
    fn an_override_hides_its_field_for_one_template_only() {
        let context = ViewContext::new(view());
        let c = context.value(vec![("title", Value::from("Other"))]);
        assert_eq!(c.get_attr("title").unwrap(), Value::from("Other"));
        let plain = context.value(Vec::new());
        assert_eq!(plain.get_attr("title").unwrap(), Value::from("Petstore"));
    }
}
