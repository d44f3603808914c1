// simdjson_ct.cpp - the "best hand-written JSON pass" comparison for bench/.
//
// What a careful engineer would write with simdjson's on-demand API to do the
// same field extraction mamori's parsers do, with no detection at all:
//   simdjson_ct ct  [-j N] FILE...          CloudTrail S3 objects {"Records":[...]}:
//        extract eventName, eventTime, sourceIPAddress, userIdentity.accessKeyId
//   simdjson_ct dns [-j N] DOMAINS FILE...  Route 53 Resolver query logs (NDJSON):
//        extract query_name, srcaddr; match query_name against the domain list
//        (exact or any parent: hash set of suffixes, trailing dot ignored)
// FILEs ending in .gz are inflated with zlib into memory first (simdjson needs
// the whole document). -j N runs N threads over the files (default 1).
// Prints one summary line so the work cannot be optimised away and so run.sh
// can check all tools agree on record and match counts.
//
// Build (run.sh does this): g++ -O3 -std=c++17 simdjson_ct.cpp -lsimdjson -lz -pthread
#include <simdjson.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <vector>

using namespace simdjson;

namespace {

struct totals {
	unsigned long long records = 0, matches = 0, bytes = 0, errors = 0, sum = 0;
};

bool ends_with(const std::string &s, const char *suf)
{
	size_t n = std::strlen(suf);
	return s.size() >= n && s.compare(s.size() - n, n, suf) == 0;
}

// Whole file into a padded buffer; .gz inflated with zlib.
bool load(const std::string &path, padded_string &out)
{
	if (!ends_with(path, ".gz")) {
		auto err = padded_string::load(path).get(out);
		return !err;
	}
	gzFile g = gzopen(path.c_str(), "rb");
	if (!g)
		return false;
	gzbuffer(g, 1 << 20);
	std::string buf;
	std::vector<char> chunk(1 << 20);
	int n;
	while ((n = gzread(g, chunk.data(), (unsigned)chunk.size())) > 0)
		buf.append(chunk.data(), (size_t)n);
	bool ok = n == 0;
	gzclose(g);
	out = padded_string(buf);
	return ok;
}

inline void mix(totals &t, std::string_view v)
{
	t.sum += v.size() + (v.empty() ? 0 : (unsigned char)v[0]);
}

void ct_file(ondemand::parser &p, const padded_string &buf, totals &t)
{
	ondemand::document doc = p.iterate(buf);
	for (auto rv : doc["Records"].get_array()) {
		ondemand::object rec = rv.get_object();
		std::string_view v;
		// Fields are read in the order AWS writes them; operator[] is
		// order-tolerant, so out-of-order records still work.
		ondemand::object uid;
		if (!rec["userIdentity"].get_object().get(uid)) {
			if (!uid["accessKeyId"].get_string().get(v))
				mix(t, v);
		}
		if (!rec["eventTime"].get_string().get(v))
			mix(t, v);
		if (!rec["eventName"].get_string().get(v))
			mix(t, v);
		if (!rec["sourceIPAddress"].get_string().get(v))
			mix(t, v);
		t.records++;
	}
}

struct domain_set {
	std::vector<std::string> store;
	std::unordered_set<std::string_view> set;
};

bool load_domains(const char *path, domain_set &d)
{
	std::ifstream in(path);
	if (!in)
		return false;
	std::string line;
	while (std::getline(in, line)) {
		while (!line.empty() && (line.back() == '\r' || line.back() == '.' || line.back() == ' '))
			line.pop_back();
		if (line.empty() || line[0] == '#')
			continue;
		for (auto &c : line)
			c = (char)std::tolower((unsigned char)c);
		d.store.push_back(line);
	}
	d.set.reserve(d.store.size() * 2);
	for (auto &s : d.store)
		d.set.insert(s);
	return true;
}

bool match_name(const domain_set &d, std::string_view name)
{
	char low[256];
	if (!name.empty() && name.back() == '.')
		name.remove_suffix(1);
	if (name.size() > sizeof low)
		return false;
	for (size_t i = 0; i < name.size(); i++)
		low[i] = (char)std::tolower((unsigned char)name[i]);
	std::string_view s(low, name.size());
	for (;;) {
		if (d.set.count(s))
			return true;
		size_t dot = s.find('.');
		if (dot == std::string_view::npos)
			return false;
		s.remove_prefix(dot + 1);
	}
}

void dns_file(ondemand::parser &p, const padded_string &buf, const domain_set &d, totals &t)
{
	ondemand::document_stream stream;
	if (p.iterate_many(buf, 1 << 20).get(stream)) {
		t.errors++;
		return;
	}
	for (auto dv : stream) {
		ondemand::object o;
		if (dv.get_object().get(o)) {
			t.errors++;
			continue;
		}
		std::string_view name, src;
		if (!o["query_name"].get_string().get(name)) {
			if (match_name(d, name))
				t.matches++;
			mix(t, name);
		}
		if (!o["srcaddr"].get_string().get(src))
			mix(t, src);
		t.records++;
	}
}

} // namespace

int main(int argc, char **argv)
{
	if (argc < 3) {
		std::fprintf(stderr, "usage: simdjson_ct ct [-j N] FILE... | dns [-j N] DOMAINS FILE...\n");
		return 2;
	}
	std::string mode = argv[1];
	int i = 2, jobs = 1;
	if (i + 1 < argc && !std::strcmp(argv[i], "-j")) {
		jobs = std::max(1, std::atoi(argv[i + 1]));
		i += 2;
	}
	domain_set dom;
	if (mode == "dns") {
		if (i >= argc || !load_domains(argv[i], dom)) {
			std::fprintf(stderr, "simdjson_ct: cannot read domain list\n");
			return 1;
		}
		i++;
	} else if (mode != "ct") {
		std::fprintf(stderr, "simdjson_ct: mode must be ct or dns\n");
		return 2;
	}
	std::vector<std::string> files(argv + i, argv + argc);
	std::atomic<size_t> next{0};
	std::vector<totals> per(jobs);
	auto worker = [&](int w) {
		ondemand::parser p;
		padded_string buf;
		totals &t = per[w];
		for (size_t k; (k = next++) < files.size();) {
			if (!load(files[k], buf)) {
				std::fprintf(stderr, "simdjson_ct: cannot read %s\n", files[k].c_str());
				t.errors++;
				continue;
			}
			t.bytes += buf.size();
			try {
				if (mode == "ct")
					ct_file(p, buf, t);
				else
					dns_file(p, buf, dom, t);
			} catch (const simdjson_error &e) {
				std::fprintf(stderr, "simdjson_ct: %s: %s\n", files[k].c_str(), e.what());
				t.errors++;
			}
		}
	};
	std::vector<std::thread> th;
	for (int w = 1; w < jobs; w++)
		th.emplace_back(worker, w);
	worker(0);
	for (auto &x : th)
		x.join();
	totals all;
	for (auto &t : per) {
		all.records += t.records;
		all.matches += t.matches;
		all.bytes += t.bytes;
		all.errors += t.errors;
		all.sum += t.sum;
	}
	std::printf("records=%llu matches=%llu bytes=%llu errors=%llu check=%llu\n", all.records, all.matches,
		    all.bytes, all.errors, all.sum);
	return all.errors ? 1 : 0;
}
