# METADATA
# title: Query rules
# description: >-
#   Whether an analyst may run an aggregate query inside a lab project.
#   The caller must be a member of an active, unexpired project; every
#   dataset must be part of the project and shared under a legal basis
#   that allows the project's purpose (purpose binding, doelbinding); the
#   project must record every field those bases and its own basis require
#   (such as the reference of a secrecy exemption); the organisation that
#   owns each dataset and a privacy officer must have approved the project;
#   and the query must not single out people: no grouping or filtering on an
#   identifier, no sums or extremes of identifiers or free text, and joins
#   only on a declared entity column. Every violation gives its own reason.
package sluis.rules.query

import data.sluis.catalogue
import data.sluis.lib

# The aggregates a query may use: those that only count, and so never
# release a column's values, and those that release something of them.
aggregate_kinds := {
	"count": "counting",
	"count_rows": "counting",
	"sum": "measuring",
	"mean": "measuring",
	"median": "measuring",
	"min": "measuring",
	"max": "measuring",
}

project_id := lib.label(lib.field(lib.project, "id"))

# The query, or null when the request holds none.
q := v if {
	v := input.query
} else := null

# A note on speed: the gateway needs each decision well within a
# millisecond, and every rule or function OPA evaluates for a request costs
# a few microseconds, more than the comparisons inside it. So a look-up
# that a rule needs per dataset or column is made once for all of them,
# into a set of the items that pass (known_basis, purpose_allowed, ...),
# and the rule denies each item that is not in that set. (Writing
# `not x.key in set` instead would be wrong: when x has no such key, OPA
# skips the whole rule, and the request would not be denied.) Conditions
# read input.project directly: a comparison with == is false, so its
# negation true, when the project or the key is missing.

# Reasons to refuse query.
deny contains msg if {
	not input.project.is_member == true
	msg := sprintf(
		"not_member: you are not a member of project %s; ask the project owner to add you",
		[project_id],
	)
}

deny contains msg if {
	not input.project.status == "active"
	msg := sprintf(
		"project_not_active: project %s has status %s; a query needs an active project: one approved by a privacy officer and the stewards of its datasets, and not expired or revoked",
		[project_id, lib.label(lib.field(lib.project, "status"))],
	)
}

deny contains msg if {
	input.project.status == "active"
	dates_known
	input.today > input.project.expires_at
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

# Both dates are present and in YYYY-MM-DD form (as lib.is_date, inlined).
dates_known if {
	is_string(input.today)
	regex.match(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`, input.today)
	is_string(input.project.expires_at)
	regex.match(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`, input.project.expires_at)
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
	some i, ds in lib.datasets
	not i in known_basis
	msg := sprintf(
		"unknown_legal_basis: dataset %s declares legal basis %s, which is not in the legal-basis catalogue; its steward must declare a basis from the catalogue",
		[lib.dataset_label(ds), lib.label(lib.field(ds, "legal_basis"))],
	)
}

# The datasets (by position) whose legal basis is in the catalogue.
known_basis contains i if {
	some i, ds in lib.datasets
	is_object(data.data.legal_bases[ds.legal_basis])
}

deny contains msg if {
	some i, ds in lib.datasets
	i in known_basis
	not i in purpose_allowed
	msg := sprintf(
		"purpose_not_allowed: dataset %s is shared under %s, which allows the purposes %s but not %s (purpose binding); use it only in a project with an allowed purpose",
		[
			lib.dataset_label(ds), ds.legal_basis,
			catalogue.allowed_purposes(ds.legal_basis), lib.label(lib.field(lib.project, "purpose")),
		],
	)
}

# The datasets whose legal basis allows the project's purpose.
purpose_allowed contains i if {
	purpose := input.project.purpose
	is_string(purpose)
	some i, ds in lib.datasets
	purposes := data.data.legal_bases[ds.legal_basis].purposes
	is_array(purposes)
	purpose in purposes
}

# Required project fields: every dataset's basis and the project's own
# basis may require fields the project must record (required_project_fields
# in the catalogue). Each missing or blank one is its own reason.
deny contains msg if {
	some basis in query_bases
	some f in data.data.legal_bases[basis].required_project_fields
	is_string(f)
	not f in filled_fields
	msg := sprintf(
		"missing_project_field: legal basis %s requires project %s to record its %s, which is missing or empty; record the %s on the project (the project owner or a privacy officer can add it) and query again",
		[basis, project_id, lib.label(f), lib.label(f)],
	)
}

# The bases in the catalogue that a query relies on.
query_bases contains lib.datasets[i].legal_basis if some i in known_basis

query_bases contains b if {
	b := input.project.legal_basis
	is_string(b)
	is_object(data.data.legal_bases[b])
}

# The project fields recorded as non-blank strings (as lib.filled, for all
# fields at once).
filled_fields contains f if {
	some f, v in input.project.fields
	is_string(v)
	trim_space(v) != ""
}

# Approval: the organisation that owns each dataset must have approved the
# project, and so must a privacy officer. The gateway tracks this too and
# sets the status to active only then; checking it here is defence in depth.
deny contains msg if {
	some i, ds in lib.datasets
	not i in owner_approved
	msg := sprintf(
		"owner_not_approved: organisation %s, which owns dataset %s, has not approved project %s; a steward of %s must approve the project before its data is queried",
		[lib.label(lib.field(ds, "org")), lib.dataset_label(ds), project_id, lib.label(lib.field(ds, "org"))],
	)
}

# The datasets whose organisation is among the project's approved_orgs.
owner_approved contains i if {
	orgs := input.project.approved_orgs
	is_array(orgs)
	some i, ds in lib.datasets
	is_string(ds.org)
	ds.org in orgs
}

deny contains msg if {
	not input.project.officer_approved == true
	msg := sprintf(
		"owner_not_approved: no privacy officer has approved project %s; a privacy officer must approve the project before any data is queried",
		[project_id],
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
	not ref in described
	msg := sprintf(
		"dataset_not_described: the query uses dataset %s, but the gateway did not send its legal basis and project membership; the gateway must describe every dataset a query uses",
		[lib.label(ref)],
	)
}

# The datasets the gateway described, and those the query uses.
described := {ds.id | some ds in lib.datasets}

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
	some c in q.group_by
	not c in role_known
	msg := sprintf(
		"unknown_column_role: group_by column %s has no known role; the dataset's steward must declare it as one of %s",
		[lib.label(lib.field(c, "column")), lib.labels(lib.column_roles)],
	)
}

deny contains msg if {
	some c in q.filters
	not c in role_known
	msg := sprintf(
		"unknown_column_role: filter column %s has no known role; the dataset's steward must declare it as one of %s",
		[lib.label(lib.field(c, "column")), lib.labels(lib.column_roles)],
	)
}

# The columns (group by, filter) and aggregates whose role is known.
role_known contains c if {
	some c in q.group_by
	c.role in lib.column_roles
}

role_known contains c if {
	some c in q.filters
	c.role in lib.column_roles
}

role_known contains a if {
	some a in measured
	a.role in lib.column_roles
}

deny contains msg if {
	some a in q.aggregates
	not a in known_aggregates
	msg := sprintf(
		"unknown_aggregate: aggregate %s is not supported; use one of %s",
		[lib.label(lib.field(a, "fn")), lib.labels(object.keys(aggregate_kinds))],
	)
}

# The aggregates whose function the policy knows.
known_aggregates contains a if {
	some a in q.aggregates
	aggregate_kinds[a.fn]
}

# The aggregates that release something of a column's values: these must
# not be on free text or identifiers, and their column's role must be known.
measured contains a if {
	some a in q.aggregates
	aggregate_kinds[a.fn] == "measuring"
}

deny contains msg if {
	some a in measured
	not a in role_known
	msg := sprintf(
		"unknown_column_role: aggregate %s is on column %s, which has no known role; name a column whose role is declared",
		[a.fn, lib.label(lib.field(a, "column"))],
	)
}

deny contains msg if {
	some a in measured
	a.role == "text"
	msg := sprintf(
		"aggregate_on_text: aggregate %s is on column %s, which is free text; only count and count_rows may be used on text columns",
		[a.fn, lib.label(lib.field(a, "column"))],
	)
}

deny contains msg if {
	some a in measured
	a.role == "identifier"
	msg := sprintf(
		"aggregate_on_identifier: aggregate %s is on column %s, which is an identifier and would release identifier values; only count and count_rows may be used on identifiers",
		[a.fn, lib.label(lib.field(a, "column"))],
	)
}
