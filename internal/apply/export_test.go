package apply

// PendingLookups are the queries that look up pending change-log rows
// (intent.go), with arguments of the right types: every run reads them,
// and they must read the index of pending rows, not the table.
func PendingLookups() map[string][]any {
	return map[string][]any{
		pendingRowsSQL: {"pg-test"},
		settleTxSQL:    {int64(1), "applied", ""},
	}
}
