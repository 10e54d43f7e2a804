//! Each JSON Schema construct of `specs/schemas.yaml`: example JSON deserialises into the
//! generated type and serialises back to the same JSON.

use connector_tests::schemas::types::{
    Animal, Cat, Color, Link, Priority, Record, RecordMaybeShape, RecordMixed, Rectangle, Shape,
    TreeNode,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

/// Deserialises `input`, serialises the result, and checks the JSON is unchanged.
fn round_trip<T: DeserializeOwned + Serialize + std::fmt::Debug>(input: Value) -> T {
    let typed: T = serde_json::from_value(input.clone()).unwrap_or_else(|e| panic!("{input}: {e}"));
    let back = serde_json::to_value(&typed).expect("serialise");
    assert_eq!(back, input, "round trip of {typed:?}");
    typed
}

#[test]
fn all_of_merges_properties_and_required() {
    let cat: Cat = round_trip(
        json!({"id": "c1", "created": "2024-01-01T00:00:00Z", "kind": "cat", "lives": 7}),
    );
    assert_eq!(cat.lives, 7);
    assert_eq!(cat.id.as_deref(), Some("c1"));
    // `kind` and `lives` are required by the second member, `id` is read-only so optional.
    assert!(serde_json::from_value::<Cat>(json!({"id": "c1", "kind": "cat"})).is_err());
    let _: Cat = round_trip(json!({"kind": "cat", "lives": 1}));
}

#[test]
fn discriminated_one_of_follows_the_mapping() {
    let cat: Animal = round_trip(json!({"kind": "cat", "lives": 9}));
    assert!(matches!(cat, Animal::Cat(Cat { lives: 9, .. })));
    let puppy: Animal = round_trip(json!({"kind": "puppy", "good": true}));
    assert!(matches!(puppy, Animal::Dog(ref d) if d.good == Some(true)));
    let dog: Animal = round_trip(json!({"kind": "dog"}));
    assert!(matches!(dog, Animal::Dog(_)));
    // A tag this version does not know is kept, not rejected.
    let bird: Animal = round_trip(json!({"kind": "bird", "wings": 2}));
    assert!(matches!(bird, Animal::Other(_)));
    // A known tag with a body that does not fit is an error, not a silent fallback.
    assert!(serde_json::from_value::<Animal>(json!({"kind": "cat", "lives": "many"})).is_err());
}

#[test]
fn untagged_one_of_tries_the_most_specific_first() {
    let rect: Shape = round_trip(json!({"width": 2.0, "height": 3.0}));
    assert_eq!(
        rect,
        Shape::Rectangle(Rectangle {
            width: 2.0,
            height: 3.0
        })
    );
    // An object that fits both alternatives goes to the one with more required properties.
    let both: Shape =
        serde_json::from_value(json!({"width": 2.0, "height": 3.0, "radius": 1.0})).unwrap();
    assert!(matches!(both, Shape::Rectangle(_)));
    let circle: Shape = round_trip(json!({"radius": 1.5}));
    assert!(matches!(circle, Shape::Circle(_)));
    assert_eq!(round_trip::<Shape>(json!(42)), Shape::Integer(42));
    assert_eq!(
        round_trip::<Shape>(json!("square")),
        Shape::String("square".into())
    );
    assert_eq!(
        round_trip::<Shape>(json!(["a", "b"])),
        Shape::List(vec!["a".into(), "b".into()])
    );
    assert!(matches!(round_trip::<Shape>(json!(true)), Shape::Other(_)));
}

#[test]
fn any_of_primitives() {
    assert_eq!(
        round_trip::<RecordMixed>(json!(true)),
        RecordMixed::Bool(true)
    );
    assert_eq!(
        round_trip::<RecordMixed>(json!(1.5)),
        RecordMixed::Number(1.5)
    );
    assert_eq!(
        round_trip::<RecordMixed>(json!("x")),
        RecordMixed::String("x".into())
    );
}

fn record(extra: Value) -> Value {
    let mut base = json!({"name": "n", "note": null, "color": "red", "priority": 2});
    if let (Some(base), Some(extra)) = (base.as_object_mut(), extra.as_object()) {
        base.extend(extra.clone());
    }
    base
}

#[test]
fn nullable_and_optional_are_kept_apart() {
    let r: Record = round_trip(record(json!({})));
    assert_eq!(r.note, None);
    assert_eq!(r.nickname, None);
    let r: Record = round_trip(record(json!({"note": "n", "nickname": null})));
    assert_eq!(r.note.as_deref(), Some("n"));
    assert_eq!(r.nickname, Some(None));
    let r: Record = round_trip(record(json!({"nickname": "nick"})));
    assert_eq!(r.nickname, Some(Some("nick".into())));
    let r: Record = round_trip(record(json!({"maybeShape": null})));
    assert_eq!(r.maybe_shape, Some(None));
    let r: Record = round_trip(record(json!({"maybeShape": {"radius": 2.0}})));
    assert!(matches!(
        r.maybe_shape,
        Some(Some(RecordMaybeShape::Circle(_)))
    ));
}

#[test]
fn enums_keep_unknown_values() {
    let r: Record = round_trip(record(json!({"color": "light-blue", "priority": -1})));
    assert_eq!(r.color, Color::LightBlue);
    assert_eq!(r.priority, Priority::V_MINUS_1);
    let r: Record = round_trip(record(json!({"color": "ultraviolet", "priority": 99})));
    assert_eq!(r.color, Color::Other("ultraviolet".into()));
    assert_eq!(r.priority, Priority(99));
    assert_eq!(serde_json::to_value(Color::V2x).unwrap(), json!("2x"));
}

#[test]
fn formats_and_maps() {
    let r: Record = round_trip(record(json!({
        "count32": 2147483647, "count64": 9007199254740993_i64, "small": 0.5,
        "big": 18446744073709551615_u64, "day": "2024-02-29", "blob": "aGVsbG8=",
        "tags": {"a": "b"}, "free": {"x": [1, {"y": null}]}, "anything": [true, "z"],
        "extra1": 5, "extra2": 6
    })));
    assert_eq!(r.count64, Some(9_007_199_254_740_993));
    assert_eq!(r.big, Some(u64::MAX));
    assert_eq!(r.additional_properties.get("extra1"), Some(&5));
    assert_eq!(
        r.tags.as_ref().and_then(|t| t.get("a")).map(String::as_str),
        Some("b")
    );
    // Undeclared properties must match `additionalProperties`.
    assert!(serde_json::from_value::<Record>(record(json!({"extra": "text"}))).is_err());
}

#[test]
fn recursive_types_nest() {
    let tree: TreeNode = round_trip(json!({
        "value": "root",
        "left": {"value": "l", "children": [{"value": "c"}]},
        "link": {"value": "linked", "link": "leaf"}
    }));
    assert_eq!(tree.left.as_ref().map(|l| l.value.as_str()), Some("l"));
    match tree.link.as_deref() {
        Some(Link::TreeNode(node)) => {
            assert!(matches!(node.link.as_deref(), Some(Link::String(s)) if s == "leaf"))
        }
        other => panic!("unexpected {other:?}"),
    }
}
