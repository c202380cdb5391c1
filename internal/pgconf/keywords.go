package pgconf

// isKeyword reports whether quote_identifier() of PostgreSQL major quotes
// w for being a keyword: the keywords that are not unreserved (SELECT word
// FROM pg_get_keywords() WHERE catcode <> 'U'; the oracle test compares
// this set with each major's). 13 to 15 share one set; 16 and 17 add the
// SQL/JSON constructors and system_user, merge_action; 18 adds none.
func isKeyword(w string, major int) bool {
	switch w {
	case "json_array", "json_arrayagg", "json_object", "json_objectagg", "system_user":
		return major >= 16
	case "json", "json_exists", "json_query", "json_scalar", "json_serialize", "json_table", "json_value",
		"merge_action":
		return major >= 17
	}
	switch w {
	case
		"all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric",
		"authorization", "between", "bigint", "binary", "bit", "boolean", "both", "case", "cast",
		"char", "character", "check", "coalesce", "collate", "collation", "column",
		"concurrently", "constraint", "create", "cross", "current_catalog", "current_date",
		"current_role", "current_schema", "current_time", "current_timestamp", "current_user",
		"dec", "decimal", "default", "deferrable", "desc", "distinct", "do", "else", "end",
		"except", "exists", "extract", "false", "fetch", "float", "for", "foreign", "freeze",
		"from", "full", "grant", "greatest", "group", "grouping", "having", "ilike", "in",
		"initially", "inner", "inout", "int", "integer", "intersect", "interval", "into", "is",
		"isnull", "join", "lateral", "leading", "least", "left", "like", "limit", "localtime",
		"localtimestamp", "national", "natural", "nchar", "none", "normalize", "not", "notnull",
		"null", "nullif", "numeric", "offset", "on", "only", "or", "order", "out", "outer",
		"overlaps", "overlay", "placing", "position", "precision", "primary", "real",
		"references", "returning", "right", "row", "select", "session_user", "setof", "similar",
		"smallint", "some", "substring", "symmetric", "table", "tablesample", "then", "time",
		"timestamp", "to", "trailing", "treat", "trim", "true", "union", "unique", "user",
		"using", "values", "varchar", "variadic", "verbose", "when", "where", "window", "with",
		"xmlattributes", "xmlconcat", "xmlelement", "xmlexists", "xmlforest", "xmlnamespaces",
		"xmlparse", "xmlpi", "xmlroot", "xmlserialize", "xmltable":
		return true
	}
	return false
}
