package sluis.lib_test

import data.sluis.lib

test_label_passes_names if {
	lib.label("wpg-art22") == "wpg-art22"
	lib.label("Fenomeenbeeld Noord") == "Fenomeenbeeld Noord"
	lib.label("anna@politie") == "anna@politie"
}

test_label_hides_odd_values if {
	every x in [null, 7, ["a"], {"a": 1}, "", "a\nb", "x;y", concat("", ["a" | some _ in numbers.range(1, 200)])] {
		lib.label(x) == "(missing or malformed)"
	}
}

test_field_is_total if {
	lib.field({"a": 1}, "a") == 1
	lib.field({"a": 1}, "b") == null
	lib.field("text", "a") == null
	lib.field(null, "a") == null
}

test_accessors_are_null_when_missing if {
	lib.action == null with input as "x"
	lib.role == null with input as {"user": "anna"}
	lib.username == null with input as {"user": {}}
	lib.org == null with input as {}
	lib.project == {} with input as {"project": "p1"}
}

test_datasets_keeps_objects_only if {
	lib.datasets == [{"id": "d1"}] with input as {"datasets": [{"id": "d1"}, "d2"]}
	lib.datasets == [] with input as {"datasets": {"id": "d1"}}
	lib.malformed_datasets with input as {"datasets": [{"id": "d1"}, "d2"]}
	lib.malformed_datasets with input as {"datasets": {"id": "d1"}}
	not lib.malformed_datasets with input as {"datasets": null}
	not lib.malformed_datasets with input as {}
}

test_dataset_label if {
	lib.dataset_label({"id": "d1"}) == "d1"
	lib.dataset_label({"id": null}) == "(new dataset)"
}

test_labels_sorted if {
	lib.labels({"b", "a", 3}) == "(missing or malformed), a, b"
}

test_is_date if {
	lib.is_date("2026-11-23")
	not lib.is_date("23-11-2026")
	not lib.is_date(20261123)
}
