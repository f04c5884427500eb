# METADATA
# title: Query rules
# description: >-
#   Whether an analyst may run an aggregate query inside a lab project.
#   The caller must be a member of an active, unexpired project; every
#   dataset must be part of the project and shared under a legal basis
#   that allows the project's purpose (purpose binding, doelbinding); and
#   the query must not single out people: no grouping or filtering on an
#   identifier, no sums or extremes of identifiers or free text, and joins
#   only on a declared entity column. Every violation gives its own reason.
package sluis.rules.query

import data.sluis.catalogue
import data.sluis.lib

# Aggregates that only count, and so never release a column's values.
counting := {"count", "count_rows"}

aggregates := counting | {"sum", "mean", "median", "min", "max"}

project_id := lib.label(lib.field(lib.project, "id"))

q := lib.field(input, "query")

# Reasons to refuse query.
deny contains msg if {
	not lib.project.is_member == true
	msg := sprintf(
		"not_member: you are not a member of project %s; ask the project owner to add you",
		[project_id],
	)
}

deny contains msg if {
	not lib.project.status == "active"
	msg := sprintf(
		"project_not_active: project %s has status %s; a query needs an active project: one approved by a privacy officer and the stewards of its datasets, and not expired or revoked",
		[project_id, lib.label(lib.field(lib.project, "status"))],
	)
}

deny contains msg if {
	lib.project.status == "active"
	lib.is_date(input.today)
	lib.is_date(lib.project.expires_at)
	input.today > lib.project.expires_at
	msg := sprintf(
		"project_expired: project %s expired on %s; ask a privacy officer to extend it",
		[project_id, lib.project.expires_at],
	)
}

deny contains msg if {
	not dates_known
	msg := sprintf(
		"expiry_unknown: cannot tell whether project %s has expired, because today's date or the project's expiry date is missing or not in YYYY-MM-DD form; the gateway must send both",
		[project_id],
	)
}

dates_known if {
	lib.is_date(input.today)
	lib.is_date(lib.project.expires_at)
}

deny contains msg if {
	some ds in lib.datasets
	not ds.in_project == true
	msg := sprintf(
		"dataset_not_in_project: dataset %s is not part of project %s; ask for the project to be extended with it (its steward must approve)",
		[lib.dataset_label(ds), project_id],
	)
}

deny contains msg if {
	some ds in lib.datasets
	not catalogue.exists(lib.field(ds, "legal_basis"))
	msg := sprintf(
		"unknown_legal_basis: dataset %s declares legal basis %s, which is not in the legal-basis catalogue; its steward must declare a basis from the catalogue",
		[lib.dataset_label(ds), lib.label(lib.field(ds, "legal_basis"))],
	)
}

deny contains msg if {
	some ds in lib.datasets
	catalogue.exists(ds.legal_basis)
	not catalogue.allows_purpose(ds.legal_basis, lib.field(lib.project, "purpose"))
	msg := sprintf(
		"purpose_not_allowed: dataset %s is shared under %s, which allows the purposes %s but not %s (purpose binding); use it only in a project with an allowed purpose",
		[
			lib.dataset_label(ds), ds.legal_basis,
			catalogue.allowed_purposes(ds.legal_basis), lib.label(lib.field(lib.project, "purpose")),
		],
	)
}

# The query itself.
deny contains "missing_query: the request holds no query; the gateway must send the query spec" if {
	not is_object(q)
}

deny contains "query_without_dataset: the query names no dataset; name the dataset to query" if {
	is_object(q)
	not is_string(lib.field(q, "dataset"))
}

deny contains msg if {
	some ref in referenced
	not ref in {ds.id | some ds in lib.datasets}
	msg := sprintf(
		"dataset_not_described: the query uses dataset %s, but the gateway did not send its legal basis and project membership; the gateway must describe every dataset a query uses",
		[lib.label(ref)],
	)
}

referenced contains q.dataset if is_string(q.dataset)

referenced contains j.dataset if {
	some j in q.joins
	is_string(j.dataset)
}

deny contains msg if {
	some j in q.joins
	not j.on_is_entity == true
	msg := sprintf(
		"join_not_on_entity: the join with dataset %s is on column %s, which is not an entity column; join only on a declared entity column so that entities are counted once",
		[lib.label(lib.field(j, "dataset")), lib.label(lib.field(j, "on"))],
	)
}

deny contains msg if {
	some g in q.group_by
	g.role == "identifier"
	msg := sprintf(
		"identifier_group_by: the query groups by column %s, which is an identifier; group by a category, date or quasi-identifier column instead",
		[lib.label(lib.field(g, "column"))],
	)
}

deny contains msg if {
	some f in q.filters
	f.role == "identifier"
	msg := sprintf(
		"identifier_filter: the query filters on column %s, which is an identifier and would single out entities; filter on a category, date or measure column instead",
		[lib.label(lib.field(f, "column"))],
	)
}

deny contains msg if {
	some [part, c] in query_columns
	not lib.field(c, "role") in lib.column_roles
	msg := sprintf(
		"unknown_column_role: %s column %s has no known role; the dataset's steward must declare it as one of %s",
		[part, lib.label(lib.field(c, "column")), lib.labels(lib.column_roles)],
	)
}

# The columns the query groups by or filters on, with where they occur.
query_columns contains ["group_by", c] if some c in as_array(lib.field(q, "group_by"))

query_columns contains ["filter", c] if some c in as_array(lib.field(q, "filters"))

deny contains msg if {
	some a in q.aggregates
	not lib.field(a, "fn") in aggregates
	msg := sprintf(
		"unknown_aggregate: aggregate %s is not supported; use one of %s",
		[lib.label(lib.field(a, "fn")), lib.labels(aggregates)],
	)
}

deny contains msg if {
	some a in q.aggregates
	a.fn in (aggregates - counting)
	not lib.field(a, "role") in lib.column_roles
	msg := sprintf(
		"unknown_column_role: aggregate %s is on column %s, which has no known role; name a column whose role is declared",
		[a.fn, lib.label(lib.field(a, "column"))],
	)
}

deny contains msg if {
	some a in q.aggregates
	a.fn in (aggregates - counting)
	a.role == "text"
	msg := sprintf(
		"aggregate_on_text: aggregate %s is on column %s, which is free text; only count and count_rows may be used on text columns",
		[a.fn, lib.label(lib.field(a, "column"))],
	)
}

deny contains msg if {
	some a in q.aggregates
	a.fn in (aggregates - counting)
	a.role == "identifier"
	msg := sprintf(
		"aggregate_on_identifier: aggregate %s is on column %s, which is an identifier and would release identifier values; only count and count_rows may be used on identifiers",
		[a.fn, lib.label(lib.field(a, "column"))],
	)
}

as_array(x) := x if {
	is_array(x)
} else := []
