/*
 * fuzz_etcd.c - etcd range answers, through the source's own reader
 * (etcd.c is compiled in): a kv it accepts is an entry whose path is the
 * key without the prefix and whose rev is its mod_revision.
 */
#include "../../lib/etcd.c"

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct esrc s;
	struct json_object *o, *kvs;
	struct arc_buf key = { 0 }, val = { 0 }, eb = { 0 }, in = { 0 };
	struct arc_entry e;
	size_t i, n;

	memset(&s, 0, sizeof(s));
	arc_buf_adds(&s.prefix, "/arc/files/");
	arc_buf_add(&in, data, size);
	if ((o = json_tokener_parse(arc_buf_str(&in))) != NULL) {
		if (json_object_object_get_ex(o, "kvs", &kvs) &&
		    json_object_is_type(kvs, json_type_array)) {
			n = json_object_array_length(kvs);
			for (i = 0; i < n; i++) {
				if (kv_entry(&s, json_object_array_get_idx(kvs,
				    i), &e, &key, &val, &eb) != 0)
					continue;
				if (e.pathlen + s.prefix.len != key.len ||
				    memcmp(e.path, key.s + s.prefix.len,
				    e.pathlen) != 0 || e.rev[0] == '\0')
					abort();
				json_object_put(e.json);
				arc_entry_free(&e);
			}
		}
		json_object_put(o);
	}
	arc_buf_free(&s.prefix);
	arc_buf_free(&key);
	arc_buf_free(&val);
	arc_buf_free(&eb);
	arc_buf_free(&in);
	return 0;
}
