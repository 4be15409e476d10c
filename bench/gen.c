/*
 * gen - generate benchmark inputs in Arc's path layout.
 *
 *	gen [-f per_hour] records n manifest-records storage-records
 *	gen [-f per_hour] ndjson n manifest.ndjson
 *	gen [-f per_hour] tree n directory
 *	gen [-f per_hour] store n directory
 *	gen [-f per_hour] orphans n directory
 *	gen [-f per_hour] inventory n directory bucket
 *
 * Every file of the synthetic universe has an index i; its path,
 * metrics/MEAS/YYYY/MM/DD/HH/MEAS_YYYYMMDD_HHMMSS_NNNNNNNNN.parquet,
 * ascends with i in byte order, because measurements are taken in
 * byte order and every other field is fixed-width digits.  So the
 * record files come out sorted without sorting anything, and a file's
 * attributes are a pure function of i: the three modes agree with each
 * other for the same n.
 *
 * records writes n + n/100 indices, about 1% only in the manifest and 1%
 * only in storage; ndjson writes the manifest side of the same universe
 * as NDJSON FileEntry objects in a shuffled order, whose arc-manifest-dump
 * output is exactly the manifest record file; tree creates n empty files
 * (no drift) with their mtimes set, for arc-list.
 *
 * store creates the storage side of the records' universe (n + n/100
 * indices, the manifest-only ones left out), orphans only its
 * storage-only files: what must really exist when the listing comes
 * from an inventory, since every candidate is re-checked live.
 * inventory writes that storage side as an S3 Inventory report in
 * directory: manifest.json (fileSchema "Bucket, Key, Size,
 * LastModifiedDate", creationTimestamp now, each data file's size and
 * MD5checksum) and data/part-NNNNN.csv.gz, a million rows each, every
 * field quoted as S3 writes them.
 */
#include <sys/stat.h>

#include <openssl/evp.h>
#include <zlib.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DB		"metrics"
#define BASE_TIME	1767225600LL	/* 2026-01-01T00:00:00Z */

/* In byte order, so that path order follows the index. */
static const char *meas[] = { "cpu", "disk", "mem", "net" };
#define NMEAS	(sizeof(meas) / sizeof(meas[0]))

static int	per_hour = 360;		/* one flush every 10 s */
static uint64_t	universe;		/* number of indices */

enum side { BOTH, MANIFEST_ONLY, STORAGE_ONLY };

struct file {
	char	 path[128];
	size_t	 pathlen;
	int64_t	 wtime;		/* write time: mtime and created_at */
	uint32_t nanos;		/* created_at's fraction, and the name's */
	int64_t	 size;
	int	 node;
	int	 side;
	char	 meas[8];
	int64_t	 hour;		/* partition hour */
};

static void
usage(void)
{
	fprintf(stderr, "usage: gen [-f per_hour] records n manifest storage\n"
	    "       gen [-f per_hour] ndjson n file\n"
	    "       gen [-f per_hour] tree n directory\n"
	    "       gen [-f per_hour] store n directory\n"
	    "       gen [-f per_hour] orphans n directory\n"
	    "       gen [-f per_hour] inventory n directory bucket\n");
	exit(2);
}

/* splitmix64: a cheap, well-mixed function of the index. */
static uint64_t
mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static void
civil(int64_t t, int *y, int *mo, int *d, int *h, int *mi, int *s)
{
	int64_t z, era, doe, yoe, doy, mp, secs;

	z = t / 86400;
	secs = t % 86400;
	z += 719468;
	era = z / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*mo = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*mo <= 2));
	*h = (int)(secs / 3600);
	*mi = (int)(secs % 3600 / 60);
	*s = (int)(secs % 60);
}

/* Fixed-width decimal, written backwards: printf is the generator's cost. */
static char *
num(char *p, uint64_t v, int width)
{
	int i;

	for (i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + width;
}

/* Decimal without padding; returns the end. */
static char *
unum(char *p, uint64_t v)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

/* 2026-04-11T14:00:00 (no zone), returns the end */
static char *
rfc3339(char *p, int64_t t)
{
	int y, mo, d, h, mi, s;

	civil(t, &y, &mo, &d, &h, &mi, &s);
	p = num(p, (uint64_t)y, 4);
	*p++ = '-';
	p = num(p, (uint64_t)mo, 2);
	*p++ = '-';
	p = num(p, (uint64_t)d, 2);
	*p++ = 'T';
	p = num(p, (uint64_t)h, 2);
	*p++ = ':';
	p = num(p, (uint64_t)mi, 2);
	*p++ = ':';
	p = num(p, (uint64_t)s, 2);
	return p;
}

static void
file_of(uint64_t i, struct file *f)
{
	uint64_t per_meas, j, r;
	int y, mo, d, h, mi, s;
	char *p;

	per_meas = (universe + NMEAS - 1) / NMEAS;
	j = i % per_meas;
	strcpy(f->meas, meas[i / per_meas]);
	f->hour = BASE_TIME + (int64_t)(j / (uint64_t)per_hour) * 3600;
	f->wtime = f->hour + (int64_t)(j % (uint64_t)per_hour) *
	    (3600 / per_hour);
	r = mix(i);
	f->nanos = (uint32_t)(r % 1000000000);
	f->size = 4096 + (int64_t)((r >> 32) % (64 << 20));
	f->node = (int)((r >> 20) % 3) + 1;
	r = mix(i ^ 0x5a5a5a5aULL) % 100;
	f->side = r == 0 ? MANIFEST_ONLY : r == 1 ? STORAGE_ONLY : BOTH;

	civil(f->wtime, &y, &mo, &d, &h, &mi, &s);
	p = f->path;
	memcpy(p, DB "/", sizeof(DB));
	p += sizeof(DB);
	p = stpcpy(p, f->meas);
	*p++ = '/';
	p = num(p, (uint64_t)y, 4);
	*p++ = '/';
	p = num(p, (uint64_t)mo, 2);
	*p++ = '/';
	p = num(p, (uint64_t)d, 2);
	*p++ = '/';
	p = num(p, (uint64_t)h, 2);
	*p++ = '/';
	p = stpcpy(p, f->meas);
	*p++ = '_';
	p = num(p, (uint64_t)y, 4);
	p = num(p, (uint64_t)mo, 2);
	p = num(p, (uint64_t)d, 2);
	*p++ = '_';
	p = num(p, (uint64_t)h, 2);
	p = num(p, (uint64_t)mi, 2);
	p = num(p, (uint64_t)s, 2);
	*p++ = '_';
	p = num(p, f->nanos, 9);
	p = stpcpy(p, ".parquet");
	f->pathlen = (size_t)(p - f->path);
}

static FILE *
create(const char *path)
{
	FILE *fp;

	if ((fp = fopen(path, "w")) == NULL)
		err(2, "cannot create '%s'", path);
	setvbuf(fp, NULL, _IOFBF, 1 << 20);
	return fp;
}

static void
finish(FILE *fp, const char *path)
{
	if (fflush(fp) == EOF || ferror(fp) || fclose(fp) == EOF)
		err(2, "write error on '%s'", path);
}

static void
records(const char *mpath, const char *spath)
{
	struct file f;
	FILE *mf, *sf;
	uint64_t i;
	char line[256], *p;

	mf = create(mpath);
	sf = create(spath);
	for (i = 0; i < universe; i++) {
		file_of(i, &f);
		p = line;
		memcpy(p, f.path, f.pathlen);
		p += f.pathlen;
		*p++ = '\t';
		p = rfc3339(p, f.wtime);
		*p++ = 'Z';
		*p++ = '\t';
		p = unum(p, (uint64_t)f.size);
		if (f.side != MANIFEST_ONLY) {
			*p = '\n';
			fwrite(line, 1, (size_t)(p - line) + 1, sf);
		}
		if (f.side == STORAGE_ONLY)
			continue;
		p = stpcpy(p, "\tnode-");
		*p++ = (char)('0' + f.node);
		*p++ = '\t';
		p = unum(p, i + 1);
		*p++ = '\n';
		fwrite(line, 1, (size_t)(p - line), mf);
	}
	finish(mf, mpath);
	finish(sf, spath);
}

static char *
hex(char *p, uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	int i;

	for (i = 15; i >= 0; i--) {
		p[i] = digits[v & 15];
		v >>= 4;
	}
	return p + 16;
}

static void
ndjson(const char *path)
{
	struct file f;
	FILE *fp;
	uint32_t *v, t;
	uint64_t i, n = 0, k, rng = 42;
	char line[1024], *p;
	uint32_t fr;
	int digits;

	if (universe > UINT32_MAX)
		errx(2, "too many entries");
	if ((v = calloc(universe, sizeof(*v))) == NULL)
		err(2, "calloc");
	for (i = 0; i < universe; i++) {
		file_of(i, &f);
		if (f.side != STORAGE_ONLY)
			v[n++] = (uint32_t)i;
	}
	/* Fisher-Yates: the source order arc-manifest-dump must undo. */
	for (i = n; i > 1; i--) {
		rng = mix(rng);
		k = rng % i;
		t = v[i - 1];
		v[i - 1] = v[k];
		v[k] = t;
	}
	fp = create(path);
	for (i = 0; i < n; i++) {
		file_of(v[i], &f);
		p = stpcpy(line, "{\"path\":\"");
		memcpy(p, f.path, f.pathlen);
		p += f.pathlen;
		p = stpcpy(p, "\",\"sha256\":\"");
		p = hex(p, mix(v[i] + 1));
		p = hex(p, mix(v[i] + 2));
		p = hex(p, mix(v[i] + 3));
		p = hex(p, mix(v[i] + 4));
		p = stpcpy(p, "\",\"size_bytes\":");
		p = unum(p, (uint64_t)f.size);
		p = stpcpy(p, ",\"database\":\"" DB "\",\"measurement\":\"");
		p = stpcpy(p, f.meas);
		p = stpcpy(p, "\",\"partition_time\":\"");
		p = rfc3339(p, f.hour);
		p = stpcpy(p, "Z\",\"origin_node_id\":\"node-");
		*p++ = (char)('0' + f.node);
		p = stpcpy(p, "\",\"tier\":\"hot\",\"created_at\":\"");
		p = rfc3339(p, f.wtime);
		/* Go's RFC3339Nano: trailing zeros of the fraction dropped */
		if (f.nanos != 0) {
			fr = f.nanos;
			digits = 9;
			while (fr % 10 == 0) {
				fr /= 10;
				digits--;
			}
			*p++ = '.';
			p = num(p, fr, digits);
		}
		p = stpcpy(p, "Z\",\"lsn\":");
		p = unum(p, (uint64_t)v[i] + 1);
		p = stpcpy(p, "}\n");
		fwrite(line, 1, (size_t)(p - line), fp);
	}
	finish(fp, path);
	free(v);
}

/* mkdir -p of the directory part of path (relative to dfd) */
static void
mkparents(int dfd, char *path)
{
	char *s;

	for (s = strchr(path, '/'); s != NULL; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdirat(dfd, path, 0755) == -1 && errno != EEXIST)
			err(2, "cannot create '%s'", path);
		*s = '/';
	}
}

enum which { ALL, STORED, ORPHANS };

static void
tree(const char *dir, int which)
{
	struct file f;
	struct timespec ts[2];
	char lastdir[128] = "";
	size_t dlen;
	uint64_t i;
	int dfd, fd;

	if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		err(2, "cannot create '%s'", dir);
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY)) == -1)
		err(2, "cannot open '%s'", dir);
	for (i = 0; i < universe; i++) {
		file_of(i, &f);
		if ((which == STORED && f.side == MANIFEST_ONLY) ||
		    (which == ORPHANS && f.side != STORAGE_ONLY))
			continue;
		dlen = (size_t)(strrchr(f.path, '/') - f.path);
		if (dlen != strlen(lastdir) ||
		    memcmp(lastdir, f.path, dlen) != 0) {
			mkparents(dfd, f.path);
			memcpy(lastdir, f.path, dlen);
			lastdir[dlen] = '\0';
		}
		if ((fd = openat(dfd, f.path, O_WRONLY | O_CREAT | O_TRUNC |
		    O_CLOEXEC, 0644)) == -1)
			err(2, "cannot create '%s'", f.path);
		ts[0].tv_sec = ts[1].tv_sec = f.wtime;
		ts[0].tv_nsec = ts[1].tv_nsec = 0;
		if (futimens(fd, ts) == -1)
			err(2, "futimens '%s'", f.path);
		close(fd);
	}
	close(dfd);
}

#define INV_ROWS	1000000	/* rows in one data file */

/* One finished data file: its name, size and MD5 in manifest.json. */
static void
inv_file(FILE *man, int k, const char *dir, const char *name, int first)
{
	unsigned char md[EVP_MAX_MD_SIZE], buf[1 << 16];
	char path[4096], hexmd[2 * EVP_MAX_MD_SIZE + 1];
	unsigned int mdlen, j;
	EVP_MD_CTX *ctx;
	struct stat sb;
	size_t n;
	FILE *fp;

	(void)k;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fp = fopen(path, "r")) == NULL || fstat(fileno(fp), &sb) == -1)
		err(2, "cannot read '%s'", path);
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_md5(), NULL) != 1)
		errx(2, "no MD5");
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		EVP_DigestUpdate(ctx, buf, n);
	if (ferror(fp))
		err(2, "cannot read '%s'", path);
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	fclose(fp);
	for (j = 0; j < mdlen; j++)
		snprintf(hexmd + 2 * j, 3, "%02x", md[j]);
	fprintf(man, "%s\n    {\"key\": \"%s\", \"size\": %lld, "
	    "\"MD5checksum\": \"%s\"}", first ? "" : ",", name,
	    (long long)sb.st_size, hexmd);
}

static void
inventory(const char *dir, const char *bucket)
{
	struct file f;
	char path[4096], name[64], line[512], *p;
	uint64_t i, rows = 0;
	gzFile gz = NULL;
	FILE *man;
	int k = 0;

	snprintf(path, sizeof(path), "%s/data", dir);
	if ((mkdir(dir, 0755) == -1 && errno != EEXIST) ||
	    (mkdir(path, 0755) == -1 && errno != EEXIST))
		err(2, "cannot create '%s'", path);
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	man = create(path);
	fprintf(man, "{\n  \"sourceBucket\": \"%s\",\n"
	    "  \"destinationBucket\": \"arn:aws:s3:::%s-inventory\",\n"
	    "  \"version\": \"2016-11-30\",\n"
	    "  \"creationTimestamp\": \"%lld000\",\n"
	    "  \"fileFormat\": \"CSV\",\n"
	    "  \"fileSchema\": \"Bucket, Key, Size, LastModifiedDate\",\n"
	    "  \"files\": [", bucket, bucket, (long long)time(NULL));
	for (i = 0; i < universe; i++) {
		file_of(i, &f);
		if (f.side == MANIFEST_ONLY)
			continue;
		if (gz == NULL) {
			snprintf(name, sizeof(name), "data/part-%05d.csv.gz",
			    k);
			snprintf(path, sizeof(path), "%s/%s", dir, name);
			if ((gz = gzopen(path, "wb6")) == NULL)
				err(2, "cannot create '%s'", path);
			gzbuffer(gz, 1 << 20);
		}
		p = line;
		*p++ = '"';
		p = stpcpy(p, bucket);
		p = stpcpy(p, "\",\"");
		memcpy(p, f.path, f.pathlen);	/* nothing to URL-encode */
		p += f.pathlen;
		p = stpcpy(p, "\",\"");
		p = unum(p, (uint64_t)f.size);
		p = stpcpy(p, "\",\"");
		p = rfc3339(p, f.wtime);
		p = stpcpy(p, ".000Z\"\n");
		if (gzwrite(gz, line, (unsigned)(p - line)) <= 0)
			errx(2, "cannot write '%s'", path);
		if (++rows == INV_ROWS) {
			if (gzclose(gz) != Z_OK)
				errx(2, "cannot write '%s'", path);
			gz = NULL;
			inv_file(man, k, dir, name, k == 0);
			k++;
			rows = 0;
		}
	}
	if (gz != NULL) {
		if (gzclose(gz) != Z_OK)
			errx(2, "cannot write '%s'", path);
		inv_file(man, k, dir, name, k == 0);
	}
	fprintf(man, "\n  ]\n}\n");
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	finish(man, path);
}

int
main(int argc, char *argv[])
{
	char *end;
	unsigned long long n;
	int ch;

	while ((ch = getopt(argc, argv, "f:")) != -1) {
		switch (ch) {
		case 'f':
			per_hour = atoi(optarg);
			if (per_hour < 1 || per_hour > 3600 ||
			    3600 % per_hour != 0)
				errx(2, "'%s': files per hour must divide 3600",
				    optarg);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 3)
		usage();
	errno = 0;
	n = strtoull(argv[1], &end, 10);
	if (errno || *end != '\0' || n == 0 || n > 1000000000)
		errx(2, "'%s': invalid count", argv[1]);

	if (strcmp(argv[0], "records") == 0 && argc == 4) {
		universe = n + n / 100;
		records(argv[2], argv[3]);
	} else if (strcmp(argv[0], "ndjson") == 0 && argc == 3) {
		universe = n + n / 100;
		ndjson(argv[2]);
	} else if (strcmp(argv[0], "tree") == 0 && argc == 3) {
		universe = n;
		tree(argv[2], ALL);
	} else if (strcmp(argv[0], "store") == 0 && argc == 3) {
		universe = n + n / 100;
		tree(argv[2], STORED);
	} else if (strcmp(argv[0], "orphans") == 0 && argc == 3) {
		universe = n + n / 100;
		tree(argv[2], ORPHANS);
	} else if (strcmp(argv[0], "inventory") == 0 && argc == 4) {
		universe = n + n / 100;
		inventory(argv[2], argv[3]);
	} else
		usage();
	return 0;
}
