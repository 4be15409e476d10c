#!/usr/bin/env bats
# valgrind.bats - the whole pipeline under valgrind: no invalid access,
# no leak, in a dry-run and an act run that deletes on both sides.

load test_helper

setup() {
	command -v valgrind >/dev/null || skip "valgrind is not installed"
	vg="$BATS_TEST_TMPDIR/vg"
	mkdir -p "$vg"
	for t in arc-manifest-dump arc-list arc-diff arc-recheck arc-delete; do
		cat >"$vg/$t" <<EOT
#!/bin/sh
exec valgrind -q --error-exitcode=99 --leak-check=full \\
    --errors-for-leak-kinds=definite,indirect \\
    --show-leak-kinds=definite,indirect \\
    --log-file="$BATS_TEST_TMPDIR/valgrind.%p.log" "$ARC_ROOT/bin/$t" "\$@"
EOT
		chmod +x "$vg/$t"
	done
	# the driver runs the tools beside it: here, the valgrind wrappers
	cp "$ARC_ROOT/bin/arc-reconcile" "$vg/"
	D=db/cpu/2026/04/11/14
	for n in 1 2 3 4 5 6 7 8 9; do
		mkfile "s/$D/keep$n.parquet"
		entry "$D/keep$n.parquet" >>m.ndjson
	done
	entry "$D/lost.parquet" >>m.ndjson
	mkfile "s/$D/orphan.parquet"
	mkfile "s/$D/young.parquet" "1 minute ago"
	mkfile "s/db/cpu/2026/04/11/daily.parquet"
}

valgrind_clean() {
	local f bad=0
	for f in "$BATS_TEST_TMPDIR"/valgrind.*.log; do
		[ -e "$f" ] || continue
		if [ -s "$f" ]; then
			echo "--- $f" >&2
			cat "$f" >&2
			bad=1
		fi
	done
	return "$bad"
}

@test "a dry-run of the whole pipeline under valgrind reports no error and no leak" {
	run "$vg/arc-reconcile" --state-dir st s m.ndjson
	[ "$status" -eq 1 ]	# drift remains: it only reported
	assert_output --partial "would-delete	orphan-manifest	$D/lost.parquet"
	assert_output --partial "would-delete	orphan-storage	$D/orphan.parquet"
	valgrind_clean
}

@test "an act run of the whole pipeline under valgrind reports no error and no leak" {
	run "$vg/arc-reconcile" --state-dir st --act --archive-files \
	    --max-orphan-ratio 1 s m.ndjson
	[ "$status" -eq 1 ]	# the daily file is refused: drift remains
	assert_output --partial "deleted	orphan-manifest	$D/lost.parquet"
	assert_output --partial "deleted	orphan-storage	$D/orphan.parquet"
	[ ! -e "s/$D/orphan.parquet" ]
	[ -e "s/$D/young.parquet" ]
	valgrind_clean
}

@test "a restore from the archive under valgrind reports no error and no leak" {
	"$ARC_ROOT/bin/arc-reconcile" --state-dir st --act --archive-files \
	    --max-orphan-ratio 1 s m.ndjson || true
	run "$vg/arc-delete" --restore st/archives/*.tar.gz s m.ndjson
	assert_success
	[ -e "s/$D/orphan.parquet" ]
	grep -q lost.parquet m.ndjson
	valgrind_clean
}
