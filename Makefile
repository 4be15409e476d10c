# arc-reconcile: find and repair drift between a Parquet-file manifest
# and the storage that holds the files.  See README.md.
.POSIX:

# The one version of every tool (each prints it with --version).
VERSION = 0.9.0

PREFIX = /usr/local
BINDIR = $(PREFIX)/bin
MANDIR = $(PREFIX)/share/man
CC = cc
CFLAGS = -O2 -g -Wall -Wextra
CPPFLAGS = -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -DARC_VERSION=\"$(VERSION)\"
PKGS = libcurl libarchive json-c libssl libcrypto expat
DEP_CFLAGS != pkg-config --cflags $(PKGS) 2>/dev/null || true
DEP_LIBS != pkg-config --libs $(PKGS) 2>/dev/null || echo -lcurl -larchive -ljson-c -lssl -lcrypto -lexpat
LDLIBS = $(DEP_LIBS) -lpthread
# A tool records only the shared libraries its modules call: arc-diff
# needs json-c alone, not libcurl, libcrypto, libarchive and expat.
ASNEEDED = -Wl,--as-needed
SAN = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

TOOLS = bin/arc-list bin/arc-manifest-dump bin/arc-diff bin/arc-recheck \
	bin/arc-delete bin/arc-manifest-load bin/arc-lock bin/arc-restore \
	bin/arc-run
LIBOBJ = lib/arcapi.o lib/archive.o lib/audit.o lib/awscred.o lib/azcred.o \
	lib/azure.o lib/base64.o lib/buf.o lib/entry.o lib/etcd.o lib/explain.o \
	lib/http.o lib/inventory.o lib/jsonout.o lib/jsonstream.o lib/local.o \
	lib/manifest.o lib/mfile.o lib/objstore.o lib/pager.o lib/path.o lib/plan.o \
	lib/cursor.o lib/planfile.o lib/progress.o lib/quote.o lib/reason.o \
	lib/record.o lib/requests.o lib/runarchive.o \
	lib/s3.o lib/sha256.o lib/shard.o lib/sortpipe.o \
	lib/store.o lib/time.o lib/url.o lib/usage.o lib/util.o lib/xml.o
MAN1 = share/man/man1/arc-list.1 share/man/man1/arc-manifest-dump.1 \
	share/man/man1/arc-diff.1 share/man/man1/arc-recheck.1 \
	share/man/man1/arc-delete.1 share/man/man1/arc-reconcile.1 \
	share/man/man1/arc-manifest-load.1 share/man/man1/arc-lock.1 \
	share/man/man1/arc-restore.1 share/man/man1/arc-run.1
MAN7 = share/man/man7/arc.7
UNIT = tests/unit/test_quote.c tests/unit/test_time.c tests/unit/test_shard.c \
	tests/unit/test_path.c tests/unit/test_record.c tests/unit/test_json.c \
	tests/unit/test_azcred.c tests/unit/test_url.c tests/unit/test_sort.c \
	tests/unit/test_xml.c

all: $(TOOLS)

.SUFFIXES: .c .o
.c.o:
	$(CC) $(CPPFLAGS) $(DEP_CFLAGS) $(CFLAGS) -c -o $@ $<

$(LIBOBJ): lib/arc.h lib/arc_priv.h

lib/libarc.a: $(LIBOBJ)
	rm -f $@
	ar rcs $@ $(LIBOBJ)

# Each tool is one source file linked with the library.
$(TOOLS): lib/libarc.a lib/arc.h
	$(CC) $(CPPFLAGS) $(DEP_CFLAGS) $(CFLAGS) -Ilib -o $@ src/$(@F).c \
	    lib/libarc.a $(LDFLAGS) $(ASNEEDED) $(LDLIBS)
bin/arc-list: src/arc-list.c
bin/arc-manifest-dump: src/arc-manifest-dump.c
bin/arc-diff: src/arc-diff.c
bin/arc-recheck: src/arc-recheck.c
bin/arc-delete: src/arc-delete.c
bin/arc-manifest-load: src/arc-manifest-load.c
bin/arc-lock: src/arc-lock.c
bin/arc-restore: src/arc-restore.c
bin/arc-run: src/arc-run.c

# The library built twice more, once with AddressSanitizer and UBSan (the
# unit tests, and the tools for a subset of the bats suites) and once for
# libFuzzer; each flavour's objects are built once and linked many times.
LIBSRC = $(LIBOBJ:.o=.c)
ASANOBJ = $(LIBOBJ:lib/%.o=build/asan/%.o)
FUZZOBJ = $(LIBOBJ:lib/%.o=build/fuzz/%.o)
ASANBIN = build/asan/bin
ASANFLAGS = -O1 -g -Wall -Wextra $(SAN)
FUZZCC = clang
FUZZFLAGS = -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all

build/asan/%.o: lib/%.c lib/arc.h lib/arc_priv.h
	@mkdir -p build/asan
	$(CC) $(CPPFLAGS) $(DEP_CFLAGS) $(ASANFLAGS) -c -o $@ $<
build/fuzz/%.o: lib/%.c lib/arc.h lib/arc_priv.h
	@mkdir -p build/fuzz
	$(FUZZCC) $(CPPFLAGS) $(DEP_CFLAGS) $(FUZZFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

# --version prints VERSION: a new one rebuilds the file that holds it
lib/usage.o build/asan/usage.o build/fuzz/usage.o: Makefile

asan: $(ASANOBJ)
	mkdir -p $(ASANBIN)
	for t in $(TOOLS); do n=$${t##*/}; \
		$(CC) $(CPPFLAGS) $(DEP_CFLAGS) $(ASANFLAGS) -Ilib -o $(ASANBIN)/$$n \
		    src/$$n.c $(ASANOBJ) $(LDLIBS) || exit 1; \
	done
	cp bin/arc-reconcile $(ASANBIN)/

# Built under build/, not tests/: it links the credential modules, whose
# default metadata addresses the test tree must not hold.
build/unit/run: $(UNIT) tests/unit/main.c tests/unit/unit.h $(ASANOBJ)
	@mkdir -p build/unit
	$(CC) $(CPPFLAGS) $(DEP_CFLAGS) $(ASANFLAGS) -Ilib -o $@ \
	    $(UNIT) tests/unit/main.c $(ASANOBJ) $(LDLIBS)

# Fuzz targets (clang, libFuzzer): `make fuzz` runs each for FUZZ_SECONDS
# from its committed seed corpus; `make check` replays the corpora.  Four
# compile a library file into the target to reach its static readers.
FUZZ_SECONDS = 30
FUZZ = tests/fuzz/fuzz_record tests/fuzz/fuzz_quote tests/fuzz/fuzz_time \
	tests/fuzz/fuzz_json tests/fuzz/fuzz_s3xml tests/fuzz/fuzz_azxml \
	tests/fuzz/fuzz_etcd tests/fuzz/fuzz_inventory
$(FUZZ): $(FUZZOBJ)
	$(FUZZCC) $(CPPFLAGS) $(DEP_CFLAGS) $(FUZZFLAGS) -fsanitize=fuzzer -Ilib \
	    -o $@ $@.c `for o in $(FUZZOBJ); do case "$@:$$o" in \
	    *s3xml:*/s3.o|*azxml:*/azure.o|*etcd:*/etcd.o|*inventory:*/inventory.o) ;; \
	    *) echo $$o ;; esac; \
	    done` $(LDLIBS)
tests/fuzz/fuzz_record: tests/fuzz/fuzz_record.c
tests/fuzz/fuzz_quote: tests/fuzz/fuzz_quote.c
tests/fuzz/fuzz_time: tests/fuzz/fuzz_time.c
tests/fuzz/fuzz_json: tests/fuzz/fuzz_json.c
tests/fuzz/fuzz_s3xml: tests/fuzz/fuzz_s3xml.c lib/s3.c
tests/fuzz/fuzz_azxml: tests/fuzz/fuzz_azxml.c lib/azure.c
tests/fuzz/fuzz_etcd: tests/fuzz/fuzz_etcd.c lib/etcd.c
tests/fuzz/fuzz_inventory: tests/fuzz/fuzz_inventory.c lib/inventory.c

fuzz: $(FUZZ)
	for f in $(FUZZ); do \
		n=$${f##*/}; mkdir -p tests/fuzz/out/$$n tests/fuzz/corpus/$$n; \
		$$f -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=tests/fuzz/out/$$n- \
		    tests/fuzz/out/$$n tests/fuzz/corpus/$$n || exit 1; \
	done

fuzz-replay: $(FUZZ)
	for f in $(FUZZ); do \
		n=$${f##*/}; $$f -runs=0 tests/fuzz/corpus/$$n >/dev/null 2>&1 || \
		    { echo "$$n: a corpus input fails"; exit 1; }; \
	done

deps:
	@sh tests/deps.sh build test

check: deps
	$(MAKE) all build/unit/run $(FUZZ) asan
	sh tests/run

demo:
	@sh tests/deps.sh build
	$(MAKE) all
	sh share/demo.sh

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	cp $(TOOLS) bin/arc-reconcile $(DESTDIR)$(BINDIR)/
	cp $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	cp $(MAN7) $(DESTDIR)$(MANDIR)/man7/

lint-man:
	for f in $(MAN1) $(MAN7); do groff -mdoc -ww -z $$f || exit 1; done

clean:
	rm -f $(TOOLS) lib/libarc.a $(LIBOBJ) build/unit/run $(FUZZ)
	rm -rf tests/fuzz/out build

.PHONY: all asan deps check demo fuzz fuzz-replay install lint-man clean
