//! Typed payload decoding for every event of the sample spec with events
//! (`specs/webhooks.yaml`: `x-webhooks` and a callback), and hostile bodies refused without a
//! panic.

use connector_tests::shop_events::webhooks::{Event, EVENTS};
use connector_tests::shop_events::CONNECTOR;
use serde_json::json;

/// A valid payload of each event, by name.
fn example(name: &str) -> Option<serde_json::Value> {
    Some(match name {
        "orderPaid" => {
            json!({"type": "order.paid", "data": {"id": "o-1", "total": 12.5, "currency": "EUR",
            "items": [{"sku": "A-1", "quantity": 2}]}})
        }
        "orderRefunded" => {
            json!({"type": "order.refunded", "data": {"order": {"id": "o-1", "total": 12.5,
            "currency": "EUR"}, "amount": 12.5, "reason": null}})
        }
        "createSubscription.stockAlert" => {
            json!({"type": "stock.low", "product": "A-1", "remaining": 3})
        }
        _ => return None,
    })
}

#[test]
fn every_event_decodes_into_its_type() {
    assert_eq!(EVENTS.len(), 3, "{EVENTS:?}");
    for name in EVENTS {
        let body = example(name).unwrap_or_else(|| panic!("no example payload for event {name}"));
        let event = Event::decode(name, body.to_string().as_bytes())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(event.name(), *name);
        match (&event, *name) {
            (Event::OrderPaid(paid), "orderPaid") => {
                assert_eq!(paid.data.id, "o-1");
                assert_eq!(paid.data.items.as_ref().map(Vec::len), Some(1));
            }
            (Event::OrderRefunded(refund), "orderRefunded") => {
                // Optional and nullable, sent as null.
                assert_eq!(refund.data.reason, Some(None))
            }
            (Event::CreateSubscriptionStockAlert(alert), "createSubscription.stockAlert") => {
                assert_eq!(alert.remaining, 3)
            }
            (other, name) => panic!("{name} decoded as {other:?}"),
        }
    }
}

#[test]
fn the_catalogue_lists_the_events_with_their_schemas() {
    let text = CONNECTOR
        .catalogue
        .as_deref()
        .expect("an embedded catalogue");
    let catalogue =
        connector_runtime::catalogue::Catalogue::from_json(text).expect("the catalogue");
    let names: Vec<&str> = catalogue.webhooks.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names, EVENTS);
    let alert = catalogue
        .webhook("createSubscription.stockAlert")
        .expect("the callback");
    assert_eq!(alert.source, "callbacks");
    assert_eq!(
        alert.expression.as_deref(),
        Some("{$request.body#/callbackUrl}")
    );
    assert_eq!(alert.type_value(), "stock.low");
    let paid = catalogue.webhook("orderPaid").expect("orderPaid");
    let schema = catalogue.standalone(&paid.payload_schema);
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    for name in EVENTS {
        let payload = example(name).expect("an example");
        let event = catalogue.webhook(name).expect("listed");
        let schema = catalogue.standalone(&event.payload_schema);
        let valid = jsonschema::validator_for(&schema)
            .expect("schema")
            .is_valid(&payload);
        assert!(valid, "{name}: the example matches its catalogue schema");
    }
    assert!(!validator.is_valid(&json!({"type": "order.paid", "data": {"id": 1}})));
    assert_eq!(
        paid.headers.first().map(|h| h.name.as_str()),
        Some("webhook-id")
    );
    let signature = catalogue.webhook_signature.as_ref().expect("declared");
    assert_eq!(signature.scheme.as_str(), "standard-webhooks");
}

#[test]
fn hostile_or_wrong_bodies_are_errors_not_panics() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let cases: Vec<Vec<u8>> = vec![
        deep.into_bytes(),
        b"{\"type\":\"order.paid\",\"data\":{\"id\":\"\xff\"}}".to_vec(),
        br#"{"type":"stock.low","product":"A","remaining":1e999}"#.to_vec(),
        br#"{"type":"stock.low","product":"A","remaining":18446744073709551616}"#.to_vec(),
        b"".to_vec(),
    ];
    for body in cases {
        for name in EVENTS {
            assert!(
                Event::decode(name, &body).is_err(),
                "{name}: {:?}",
                String::from_utf8_lossy(&body)
            );
        }
    }
    let err = Event::decode("noSuchEvent", b"{}").expect_err("unknown");
    assert!(err.to_string().contains("noSuchEvent"));
}
