/*
 * reason.c - the one table of reason codes (arc(7), REASON CODES).
 *
 * Reads and writes nothing: it names the codes that reject records and
 * result lines carry, and says in a line what each means, for
 * arc-reconcile explain.  A code is never renamed or renumbered in a
 * record: records hold the name, and a reader parses it back here.
 *
 * arc_stop_reason is the other side of a reason: why a stage stopped,
 * written to the file ARC_STOP_REASON_FILE names (set by arc-reconcile
 * for its stages), for the run's abort_reason.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arc.h"

static const struct {
	const char	*name;
	const char	*text;
} codes[ARC_R_COUNT] = {
	[ARC_R_NONE] = { "-", "no reason code (a record written before codes)" },
	[ARC_R_ORPHAN_MANIFEST] = { "ORPHAN_MANIFEST",
	    "in the manifest, not in the store's listing" },
	[ARC_R_ORPHAN_STORAGE] = { "ORPHAN_STORAGE",
	    "in the store, not in the manifest, older than the grace window" },
	[ARC_R_TOO_YOUNG] = { "TOO_YOUNG",
	    "in the store, not in the manifest, inside the grace window" },
	[ARC_R_UNKNOWN_MTIME] = { "UNKNOWN_MTIME",
	    "in the store, not in the manifest, its modification time unknown" },
	[ARC_R_NOT_A_CANDIDATE] = { "NOT_A_CANDIDATE",
	    "not a Parquet file, hidden, or in compaction state" },
	[ARC_R_LAYOUT_MISMATCH] = { "LAYOUT_MISMATCH",
	    "not a managed path (fewer than 7 segments, or an empty, '.' or "
	    "'..' segment)" },
	[ARC_R_FOREIGN_ORIGIN] = { "FOREIGN_ORIGIN",
	    "a manifest entry of another node (--node)" },
	[ARC_R_RECHECK_PRESENT] = { "RECHECK_PRESENT",
	    "the file exists in the store when checked again" },
	[ARC_R_RECHECK_REGISTERED] = { "RECHECK_REGISTERED",
	    "the path is in the manifest when checked again" },
	[ARC_R_RECHECK_ERROR] = { "RECHECK_ERROR",
	    "could not be checked again (an error is never an absence)" },
	[ARC_R_CHANGED_SINCE_LISTING] = { "CHANGED_SINCE_LISTING",
	    "not the file or entry listed: its rev, mtime, size or ETag "
	    "changed" },
	[ARC_R_GONE] = { "GONE", "already absent" },
	[ARC_R_LISTING_PARTIAL] = { "LISTING_PARTIAL",
	    "the store's listing was partial: manifest entries are only "
	    "reported" },
	[ARC_R_CAP_DEFERRED] = { "CAP_DEFERRED",
	    "left for a later run: the run reached --max-deletes" },
	[ARC_R_BREAKER] = { "BREAKER",
	    "the circuit breaker stopped the run: drift above "
	    "--max-orphan-ratio" },
	[ARC_R_DELETED] = { "DELETED", "deleted" },
	[ARC_R_DELETE_FAILED] = { "DELETE_FAILED",
	    "the delete was attempted and did not succeed, or the file "
	    "could not be archived" },
	[ARC_R_UNVERIFIED] = { "UNVERIFIED",
	    "the store or manifest acknowledged the delete, but the check "
	    "after it still found the path or got no answer" },
	[ARC_R_DEFERRED] = { "DEFERRED",
	    "the delete of the entry was written out for an operator" },
	[ARC_R_RESTORED] = { "RESTORED", "put back from an archive" },
	[ARC_R_RESTORE_REFUSED] = { "RESTORE_REFUSED",
	    "an archive member that is not a plain file with a safe name" },
	[ARC_R_RESTORE_FAILED] = { "RESTORE_FAILED", "not put back" },
};

const char *
arc_reason_name(int code)
{
	return code > ARC_R_NONE && code < ARC_R_COUNT ? codes[code].name :
	    codes[ARC_R_NONE].name;
}

const char *
arc_reason_text(int code)
{
	return code > ARC_R_NONE && code < ARC_R_COUNT ? codes[code].text :
	    codes[ARC_R_NONE].text;
}

/* The code named s[0..n), or -1 for no code of the table. */
int
arc_reason_parse(const char *s, size_t n)
{
	int i;

	for (i = ARC_R_NONE + 1; i < ARC_R_COUNT; i++)
		if (strlen(codes[i].name) == n &&
		    memcmp(codes[i].name, s, n) == 0)
			return i;
	return -1;
}

/* The code of a confirmed candidate of kind (a dry run's would-delete). */
int
arc_reason_orphan(int kind)
{
	return kind == ARC_KIND_MANIFEST ? ARC_R_ORPHAN_MANIFEST :
	    ARC_R_ORPHAN_STORAGE;
}

/*
 * Say why this stage stops, for arc-reconcile's abort_reason (arc(7),
 * ENVIRONMENT): code goes to the file ARC_STOP_REASON_FILE names, when
 * it is set and the file is still empty, so that the first cause is the
 * one kept.  Nothing else is done: the caller still says what happened
 * on stderr and exits as it always did.  A file that cannot be written
 * leaves the run's reason "unknown", as before.
 */
void
arc_stop_reason(const char *code)
{
	const char *path = getenv("ARC_STOP_REASON_FILE");
	struct stat sb;
	int fd, e = errno;

	if (path == NULL || *path == '\0')
		return;
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC, 0600)) == -1)
		goto out;
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size == 0)
		(void)write(fd, code, strlen(code));
	close(fd);
out:
	errno = e;
}
