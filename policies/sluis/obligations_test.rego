package sluis.obligations_test

import data.sluis.fixtures
import data.sluis.obligations

# A catalogue with one strict and one loose basis, to test merging apart
# from the shipped values.
merge_bases := {
	"strict": {"obligations": {
		"min_entities": 20, "dominance_n": 3, "dominance_k": 70,
		"p_percent": 15, "rounding_base": 5, "review_required": true,
	}},
	"loose": {"obligations": {
		"min_entities": 5, "dominance_n": 1, "dominance_k": 95,
		"p_percent": 5, "rounding_base": 1, "review_required": false,
	}},
	"partial": {"obligations": {"min_entities": 15}},
}

datasets(bases) := {"datasets": [{"id": b, "legal_basis": b} | some b in bases]}

strict := {
	"min_entities": 20, "dominance_n": 3, "dominance_k": 70,
	"p_percent": 15, "rounding_base": 5, "review_required": true,
}

test_no_datasets_use_catalogue_defaults if {
	obligations.merged == fixtures.default_obligations with input as {"datasets": []}
	obligations.merged == fixtures.default_obligations with input as {}
}

test_defaults_read_from_catalogue if {
	obligations.merged.min_entities == 12 with input as {}
		with data.data.default_obligations.min_entities as 12
}

test_strictest_of_each_obligation if {
	obligations.merged == strict with input as datasets(["loose", "strict"])
		with data.data.legal_bases as merge_bases
}

# (n,k) dominance: the largest n and the smallest k are the strictest.
test_dominance_merges_to_largest_n_and_smallest_k if {
	bases := {
		"a": {"obligations": {"dominance_n": 3, "dominance_k": 90}},
		"b": {"obligations": {"dominance_n": 2, "dominance_k": 75}},
	}
	merged := obligations.merged with input as datasets(["a", "b"])
		with data.data.legal_bases as bases
	merged.dominance_n == 3
	merged.dominance_k == 75
}

test_basis_cannot_loosen_defaults if {
	obligations.merged == fixtures.default_obligations with input as datasets(["loose"])
		with data.data.legal_bases as merge_bases
}

test_missing_obligation_falls_back_to_default if {
	obligations.merged == object.union(fixtures.default_obligations, {"min_entities": 15}) with input as datasets(["partial"])
		with data.data.legal_bases as merge_bases
}

test_unknown_basis_gets_defaults if {
	obligations.merged == fixtures.default_obligations with input as datasets(["convenant"])
}

test_shipped_police_and_tax_merge_to_review if {
	obligations.merged == fixtures.tax_obligations with input as datasets(["wpg-art22", "awr-43c"])
}

test_ill_typed_values_ignored if {
	bases := {"odd": {"obligations": {"min_entities": "50", "review_required": "yes", "dominance_k": -1}}}
	obligations.merged == fixtures.default_obligations with input as datasets(["odd"])
		with data.data.legal_bases as bases
}

test_broken_defaults_fall_back_to_builtin if {
	obligations.merged == obligations.builtin_defaults with input as {}
		with data.data.default_obligations as "oops"
}

test_missing_defaults_fall_back_to_builtin if {
	obligations.merged == obligations.builtin_defaults with input as {}
		with data.data as object.remove(data.data, {"default_obligations"})
}

test_review_kept_from_a_partial_basis if {
	bases := {"partial": {"obligations": {"min_entities": 15, "review_required": true}}}
	obligations.merged == object.union(fixtures.default_obligations, {"min_entities": 15, "review_required": true}) with input as datasets(["partial"])
		with data.data.legal_bases as bases
}

# merged takes a fast path (merge the values as they are, then check the
# result) and falls back to checking each value (careful); both must
# always agree.
test_fast_merge_agrees_with_careful if {
	odd_values := [
		"50", null, -1, true, false, [20], {"n": 20}, 0, 1000, 2.5,
	]
	every key in ["min_entities", "dominance_n", "dominance_k", "p_percent", "rounding_base", "review_required"] {
		every v in odd_values {
			bases := {"odd": {"obligations": object.union(merge_bases.strict.obligations, {key: v})}, "loose": merge_bases.loose}
			request := datasets(["odd", "loose"])
			fast := obligations.merged with input as request with data.data.legal_bases as bases
			careful := obligations.careful with input as request with data.data.legal_bases as bases
			fast == careful
		}
	}
}

test_fast_merge_agrees_with_careful_on_odd_defaults if {
	every key in ["min_entities", "dominance_k", "review_required"] {
		every v in ["x", null, -5, 3] {
			defaults := object.union(fixtures.default_obligations, {key: v})
			request := datasets(["wpg-art22", "awr-43c"])
			fast := obligations.merged with input as request with data.data.default_obligations as defaults
			careful := obligations.careful with input as request with data.data.default_obligations as defaults
			fast == careful
		}
	}
}

test_no_epsilon_anywhere_means_no_differential_privacy if {
	o := obligations.in_force with data.data.legal_bases as {"a": {"obligations": {"dp_epsilon": null}}}
		with input as {"datasets": [{"legal_basis": "a"}]}
	not "dp_epsilon" in object.keys(o)
}

test_smallest_epsilon_wins if {
	o := obligations.in_force with data.data.legal_bases as {
		"a": {"obligations": {"dp_epsilon": 1.0}},
		"b": {"obligations": {"dp_epsilon": 0.5}},
		"c": {"obligations": {"dp_epsilon": null}},
	}
		with input as {"datasets": [{"legal_basis": "a"}, {"legal_basis": "b"}, {"legal_basis": "c"}]}
	o.dp_epsilon == 0.5
	o.min_entities >= 10
	not "dp_budget" in object.keys(o)
}

test_smallest_budget_wins if {
	o := obligations.in_force with data.data.legal_bases as {
		"a": {"obligations": {"dp_epsilon": 1.0, "dp_budget": 5}},
		"b": {"obligations": {"dp_epsilon": 0.5, "dp_budget": 3}},
	}
		with input as {"datasets": [{"legal_basis": "a"}, {"legal_basis": "b"}]}
	o.dp_budget == 3
}

test_non_positive_or_mistyped_epsilon_is_ignored if {
	o := obligations.in_force with data.data.legal_bases as {
		"a": {"obligations": {"dp_epsilon": 0}},
		"b": {"obligations": {"dp_epsilon": "0.1"}},
	}
		with input as {"datasets": [{"legal_basis": "a"}, {"legal_basis": "b"}]}
	not "dp_epsilon" in object.keys(o)
}
