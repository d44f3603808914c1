/* test_listfmt.c - GuardDuty's list formats into one indicator a line:
 * the samples of GuardDuty's user guide (re-typed here, STIX typo and
 * all), realistic exports in tests/data/lists/, CSV quoting, CRLF and
 * headers, ranges to CIDRs, what is skipped and why, wrong formats, and
 * hostile input (DOCTYPE/XXE, entity bombs, deep nesting, huge lines).
 * Every converted list is loaded back with mm_intel_load_mem: what we
 * write, it takes without a single error or refusal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "intel/intel.h"
#include "intel/listfmt.h"
#include "mmtest.h"

#define DATA "tests/data/lists/"

struct res {
	int rc;
	struct mm_listfmt_stats st;
	struct mm_err err;
	char out[8192];
};

/* Convert, and check that mm_intel_load takes every line written. */
static void conv(const char *fmt, const char *doc, size_t n, struct res *r)
{
	struct mm_buf out;
	memset(r, 0, sizeof(*r));
	mm_log_set_level(MM_LOG_QUIET);
	mm_buf_init(&out, 64u << 20);
	r->rc = mm_listfmt_convert(fmt, doc, n, &out, &r->st, &r->err);
	snprintf(r->out, sizeof(r->out), "%s", out.p ? out.p : "");
	if (r->rc == 0 && strcmp(fmt, "TXT")) {
		struct mm_intel *in = NULL;
		struct mm_intel_load_stats ls;
		struct mm_err err;
		CHECK_EQ_INT(mm_intel_new(&in), 0);
		CHECK_EQ_INT(mm_intel_load_mem(in, MM_CAT_CUSTOM, "t", out.p ? out.p : "", out.len,
					       &ls, &err),
			     0);
		CHECK_EQ_INT(ls.errors, 0);
		CHECK_EQ_INT(ls.refused, 0);
		CHECK_EQ_INT(ls.skipped, 0);
		CHECK_EQ_INT(ls.ips + ls.cidrs + ls.domains, r->st.written);
		mm_intel_free(in);
	}
	mm_buf_free(&out);
}

static void convz(const char *fmt, const char *doc, struct res *r)
{
	conv(fmt, doc, strlen(doc), r);
}

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *p;
	long len;
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = malloc((size_t)len + 1);
	*n = fread(p, 1, (size_t)len, f);
	p[*n] = '\0';
	fclose(f);
	return p;
}

static void conv_file(const char *fmt, const char *name, struct res *r)
{
	size_t n = 0;
	char *doc = slurp(name, &n);
	CHECK(doc != NULL);
	conv(fmt, doc ? doc : "", n, r);
	free(doc);
}

/* ---- GuardDuty's own samples --------------------------------------- */

/* the IP list sample of the user guide, with its missing space in
 * "<AddressObject:Address_Valuecondition=...>" kept on purpose */
static const char GD_STIX_IP[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<stix:STIX_Package\n"
	"    xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"\n"
	"    xmlns:stix=\"http://stix.mitre.org/stix-1\"\n"
	"    xmlns:cybox=\"http://cybox.mitre.org/cybox-2\"\n"
	"    xmlns:AddressObject=\"http://cybox.mitre.org/objects#AddressObject-2\"\n"
	"    xmlns:example=\"http://example.com/\"\n"
	"    xsi:schemaLocation=\"\n"
	"    http://stix.mitre.org/stix-1 http://stix.mitre.org/XMLSchema/core/1.2/stix_core.xsd\"\n"
	"    id=\"example:STIXPackage-a78fc4e3-df94-42dd-a074-6de62babfe16\"\n"
	"    version=\"1.2\">\n"
	"    <stix:Observables cybox_major_version=\"1\" cybox_minor_version=\"1\">\n"
	"        <cybox:Observable id=\"example:observable-1\">\n"
	"            <cybox:Object id=\"example:object-1\">\n"
	"                <cybox:Properties xsi:type=\"AddressObject:AddressObjectType\" "
	"category=\"ipv4-addr\">\n"
	"                    <AddressObject:Address_Valuecondition=\"InclusiveBetween\">192.0.2.0"
	"##comma##192.0.2.255</AddressObject:Address_Value>\n"
	"                </cybox:Properties>\n"
	"            </cybox:Object>\n"
	"        </cybox:Observable>\n"
	"        <cybox:Observable id=\"example:observable-2\">\n"
	"            <cybox:Object id=\"example:object-2\">\n"
	"                <cybox:Properties xsi:type=\"AddressObject:AddressObjectType\" "
	"category=\"ipv4-addr\">\n"
	"                    <AddressObject:Address_Value>198.51.100.1</AddressObject:Address_Value>\n"
	"                </cybox:Properties>\n"
	"            </cybox:Object>\n"
	"        </cybox:Observable>\n"
	"        <cybox:Observable id=\"example:observable-3\">\n"
	"            <cybox:Object id=\"example:object-3\">\n"
	"                <cybox:Properties xsi:type=\"AddressObject:AddressObjectType\" "
	"category=\"ipv4-addr\">\n"
	"                    <AddressObject:Address_Value>203.0.113.1</AddressObject:Address_Value>\n"
	"                </cybox:Properties>\n"
	"            </cybox:Object>\n"
	"        </cybox:Observable>\n"
	"    </stix:Observables>\n"
	"</stix:STIX_Package>\n";

static const char GD_STIX_ENTITY[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<stix:STIX_Package xmlns:cybox=\"http://cybox.mitre.org/cybox-2\"\n"
	"    xmlns:stix=\"http://stix.mitre.org/stix-1\"\n"
	"    xmlns:indicator=\"http://stix.mitre.org/Indicator-2\"\n"
	"    xmlns:stixVocabs=\"http://stix.mitre.org/default_vocabularies-1\"\n"
	"    xmlns:DomainNameObj=\"http://cybox.mitre.org/objects#DomainNameObject-1\"\n"
	"    id=\"example:Package-1\" version=\"1.2\">\n"
	"  <stix:Indicators>\n"
	"    <stix:Indicator id=\"example:indicator-1\" timestamp=\"2025-08-12T00:00:00Z\"\n"
	"        xsi:type=\"indicator:IndicatorType\"\n"
	"        xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n"
	"      <indicator:Title>Malicious domain observed Example</indicator:Title>\n"
	"      <indicator:Type xsi:type=\"stixVocabs:IndicatorTypeVocab-1.1\">Domain "
	"Watchlist</indicator:Type>\n"
	"      <indicator:Observable id=\"example:Observable-1\">\n"
	"        <cybox:Object id=\"example:Object-1\">\n"
	"          <cybox:Properties xsi:type=\"DomainNameObj:DomainNameObjectType\">\n"
	"            <DomainNameObj:Value condition=\"Equals\">bad.example.com</DomainNameObj:Value>\n"
	"          </cybox:Properties>\n"
	"        </cybox:Object>\n"
	"      </indicator:Observable>\n"
	"    </stix:Indicator>\n"
	"  </stix:Indicators>\n"
	"</stix:STIX_Package>\n";

MM_TEST(guardduty_stix_samples)
{
	struct res r;
	convz("STIX", GD_STIX_IP, &r);
	CHECK_EQ_INT(r.rc, 0);
	CHECK_EQ_STR(r.out, "192.0.2.0/24\n198.51.100.1\n203.0.113.1\n");
	CHECK_EQ_INT(r.st.written, 3);
	CHECK_EQ_INT(r.st.skipped, 0);
	convz("STIX", GD_STIX_ENTITY, &r);
	CHECK_EQ_INT(r.rc, 0);
	CHECK_EQ_STR(r.out, "bad.example.com\n");
}

MM_TEST(guardduty_csv_samples)
{
	struct res r;
	convz("OTX_CSV",
	      "Indicator type, Indicator, Description\n"
	      "CIDR, 192.0.2.0/24, example\n"
	      "IPv4, 198.51.100.1, example\n"
	      "IPv4, 203.0.113.1, example\n"
	      "Domain name, example.net, example\n",
	      &r);
	CHECK_EQ_INT(r.rc, 0);
	CHECK_EQ_STR(r.out, "192.0.2.0/24\n198.51.100.1\n203.0.113.1\nexample.net\n");
	CHECK_EQ_INT(r.st.written, 4);

	convz("PROOF_POINT",
	      "domain, category, score, first_seen, last_seen, ports (|)\n"
	      "198.51.100.1, 1, 100, 2000-01-01, 2000-01-01,\n"
	      "203.0.113.1, 1, 100, 2000-01-01, 2000-01-01, 80\n",
	      &r);
	CHECK_EQ_INT(r.rc, 0);
	CHECK_EQ_STR(r.out, "198.51.100.1\n203.0.113.1\n");

	convz("ALIEN_VAULT",
	      "192.0.2.1#4#2#Malicious Host#KR##37.5111999512,126.974098206#3\n"
	      "192.0.2.2#4#2#Scanning Host#IN#Gurgaon#28.4666996002,77.0333023071#3\n"
	      "192.0.2.3#4#2##CN#Guangzhou#23.1166992188,113.25#3\n"
	      "www.test.org#4#2#Malicious Host#CA#Brossard#45.4673995972,-73.4832000732#3\n"
	      "www.example.com#4#2#Malicious Host#PL##52.2393989563,21.0361995697#3\n",
	      &r);
	CHECK_EQ_INT(r.rc, 0);
	CHECK_EQ_STR(r.out, "192.0.2.1\n192.0.2.2\n192.0.2.3\nwww.test.org\nwww.example.com\n");
}

/* the user guide's FireEye rows: blank lines between rows, a row that
 * starts with a space, ",," without blanks, "ip" with a port */
MM_TEST(guardduty_fireeye_sample)
{
	static const char hdr[] =
		"reportId, title, threatScape, audience, intelligenceType, publishDate, reportLink, "
		"webLink, emailIdentifier, senderAddress, senderName, sourceDomain, sourceIp, subject, "
		"recipient, emailLanguage, fileName, fileSize, fuzzyHash, fileIdentifier, md5, sha1, "
		"sha256, description, fileType, packer, userAgent, registry, fileCompilationDateTime, "
		"filePath, asn, cidr, domain, domainTimeOfLookup, networkIdentifier, ip, port, "
		"protocol, registrantEmail, registrantName, networkType, url, malwareFamily, "
		"malwareFamilyId, actor, actorId, observationTime\n\n";
	static const char rows[] =
		"01-00000001, Example, Test, Operational, threat, 1494944400, "
		"https://www.example.com/report/01-00000001, https://www.example.com/report/01-00000001, "
		", , , , , , , , , , , , , , , , , , , , , , , 192.0.2.0/24, , , Related, , , , , , "
		"network, , Ursnif, 21a14673-0d94-46d3-89ab-8281a0466099, , , 1494944400\n\n"
		"01-00000002, Example, Test, Operational, threat, 1494944400, "
		"https://www.example.com/report/01-00000002, https://www.example.com/report/01-00000002, "
		", , , , , , , , , , , , , , , , , , , , , , , , , , Related, 198.51.100.1, , , , , "
		"network, , Ursnif, 12ab7bc4-62ed-49fa-99e3-14b92afc41bf, , ,1494944400\n\n"
		" 01-00000002, Malicious domain observed in test, Test, Operational, threat, 1494944400, "
		"https://www.example.com/report/01-00000002,https://www.example.com/report/01-00000002,"
		",,,,,,,,,,,,,,,,,,,,,,, 203.0.113.0/24, example.com,, Related, 203.0.113.0, 8080, "
		"UDP,,, network,, Ursnif, fc13984c-c767-40c9-8329-f4c59557f73b,,, 1494944400\n";
	char doc[4096];
	struct res r;

	snprintf(doc, sizeof(doc), "%s%s", hdr, rows);
	convz("FIRE_EYE", doc, &r);
	CHECK_EQ_INT(r.rc, 0);
	CHECK_EQ_STR(r.out, "192.0.2.0/24\n198.51.100.1\n203.0.113.0/24\nexample.com\n203.0.113.0\n");
	/* the same rows without the header: the documented column order */
	convz("FIRE_EYE", rows, &r);
	CHECK_EQ_INT(r.rc, 0);
	CHECK_EQ_INT(r.st.written, 5);
}

/* ---- realistic exports -------------------------------------------- */

MM_TEST(stix_export)
{
	struct res r;
	conv_file("STIX", DATA "threats.stix.xml", &r);
	CHECK_EQ_INT(r.rc, 0);
	CHECK_EQ_STR(r.out, "192.0.2.0/24\n198.51.100.1\n198.51.100.2\n2001:db8:bad::1\n"
			    "203.0.113.64/26\n198.51.100.77\nbad.example.com\nmalware.example.net\n"
			    "203.0.113.200\n");
	/* the e-mail address, the StartsWith pattern, the URL path on a named host */
	CHECK_EQ_INT(r.st.skipped, 3);
}

MM_TEST(otx_export)
{
	struct res r;
	conv_file("OTX_CSV", DATA "pulse.otx.csv", &r);
	CHECK_EQ_INT(r.rc, 0);
	CHECK_EQ_STR(r.out, "198.51.100.23\n2001:db8:dead::10\n203.0.113.128/25\nevil.example.com\n"
			    "c2.bad.example.net\n203.0.113.201\n");
	/* the CDN URL, the hash, the e-mail, the CVE (its quoted description
	 * spans two lines and is one record) */
	CHECK_EQ_INT(r.st.skipped, 4);
}

MM_TEST(proofpoint_export)
{
	struct res r;
	conv_file("PROOF_POINT", DATA "iprep.proofpoint.csv", &r);
	CHECK_EQ_INT(r.rc, 0);
	CHECK_EQ_STR(r.out, "198.51.100.31\n198.51.100.32\n2001:db8:beef::7\n");
	CHECK_EQ_INT(r.st.skipped, 1);
	conv_file("PROOF_POINT", DATA "domainrep.proofpoint.csv", &r);
	CHECK_EQ_INT(r.rc, 0);
	CHECK_EQ_STR(r.out, "bad.example.org\ncdn-update.example.net\n");
}

MM_TEST(fireeye_export)
{
	struct res r;
	conv_file("FIRE_EYE", DATA "isight.fireeye.csv", &r);
	CHECK_EQ_INT(r.rc, 0);
	CHECK_EQ_STR(r.out, "192.0.2.0/25\n198.51.100.51\n203.0.113.0/26\nursnif-c2.example.com\n"
			    "203.0.113.5\n203.0.113.40\n");
	/* the file-hash row and the e-mail row (sender fields are not taken) */
	CHECK_EQ_INT(r.st.skipped, 2);
}

MM_TEST(alienvault_export)
{
	struct res r;
	conv_file("ALIEN_VAULT", DATA "reputation.alienvault.txt", &r);
	CHECK_EQ_INT(r.rc, 0);
	CHECK_EQ_STR(r.out, "198.51.100.41\n198.51.100.42\n198.51.100.43\nwww.bad.example.com\n");
	CHECK_EQ_INT(r.st.skipped, 1);
}

/* ---- CSV details ---------------------------------------------------- */

MM_TEST(csv_quotes_crlf_headers)
{
	struct res r;
	/* BOM, CRLF, quoted indicator, doubled quotes and commas inside
	 * quotes, a quoted field over two lines, blank and comment lines */
	convz("OTX_CSV",
	      "\xef\xbb\xbf\"Indicator type\",\"Indicator\",\"Description\"\r\n"
	      "\r\n"
	      "# exported 2024-05-01\r\n"
	      "\"IPv4\",\"198.51.100.5\",\"said \"\"hi\"\", then left, twice\"\r\n"
	      "\"domain\",\"quoted.example.com\",\"line one\r\nline two, with comma\"\r\n"
	      "IPv4 , 198.51.100.6 ,  trailing blanks  \r\n"
	      "hostname,\"  spaced.example.com  \",\r\n",
	      &r);
	CHECK_EQ_INT(r.rc, 0);
	CHECK_EQ_STR(r.out, "198.51.100.5\nquoted.example.com\n198.51.100.6\nspaced.example.com\n");
	CHECK_EQ_INT(r.st.skipped, 0);

	/* columns named by the header, in another order */
	convz("OTX_CSV", "Description,Indicator,Indicator type\nseen,198.51.100.8,IPv4\n", &r);
	CHECK_EQ_STR(r.out, "198.51.100.8\n");
	/* no header at all */
	convz("OTX_CSV", "IPv4,198.51.100.9,\n", &r);
	CHECK_EQ_STR(r.out, "198.51.100.9\n");
	/* a file without a final newline, LF only */
	convz("PROOF_POINT", "ip,category\n198.51.100.10,1", &r);
	CHECK_EQ_STR(r.out, "198.51.100.10\n");
	/* an unterminated quote runs to the end; nothing crashes */
	convz("OTX_CSV", "IPv4,198.51.100.11,\nIPv4,\"198.51.100.12", &r);
	CHECK_EQ_INT(r.rc, 0);
	CHECK_EQ_STR(r.out, "198.51.100.11\n198.51.100.12\n");
}

/* A field cannot smuggle a second entry, a comment or a hosts line into
 * the converted list: everything written is one validated token. */
MM_TEST(no_injection)
{
	struct res r;
	convz("OTX_CSV",
	      "IPv4,\"198.51.100.13\n203.0.113.99\",\n"
	      "domain,\"a.example.com b.example.com\",\n"
	      "domain,\"x.example.com#comment\",\n"
	      "IPv4,198.51.100.14,\n",
	      &r);
	CHECK_EQ_INT(r.rc, 0);
	CHECK_EQ_STR(r.out, "198.51.100.14\n");
	CHECK_EQ_INT(r.st.skipped, 3);
}

/* What mm_intel_load would not take is skipped here and counted. */
MM_TEST(validation)
{
	struct res r;
	convz("PROOF_POINT",
	      "ip,category\n"
	      "10.0.0.0/7,1\n"	/* wider than /8 */
	      "10.0.0.0/8,1\n"
	      "2001:db8::/15,1\n"
	      "2001:db8::/32,1\n"
	      "::ffff:198.51.100.0/120,1\n"
	      "198.51.100.0/33,1\n"
	      "com,1\n"	/* a bare TLD */
	      "bad..example.com,1\n"
	      "-bad.example.com,1\n"
	      "example.123,1\n"
	      "*.wild.example.com,1\n"
	      "tor-hidden.onion,1\n"
	      "256.1.1.1,1\n"
	      "198.51.100.15:8080,1\n",
	      &r);
	CHECK_EQ_INT(r.rc, 0);
	CHECK_EQ_STR(r.out, "10.0.0.0/8\n2001:db8::/32\n::ffff:198.51.100.0/120\n"
			    "*.wild.example.com\ntor-hidden.onion\n");
	CHECK_EQ_INT(r.st.skipped, 9);
}

MM_TEST(urls)
{
	struct res r;
	convz("OTX_CSV",
	      "URL,http://bare.example.com,\n"
	      "URL,https://slash.example.com/,\n"
	      "URL,https://user:pw@auth.example.com:8443/,\n"
	      "URL,http://[2001:db8::5]/x.sh,\n"
	      "URL,http://198.51.100.16:81/bins/mips,\n"
	      "URL,https://github.example.com/owner/repo/raw/x.exe,\n"
	      "URI,noscheme.example.com,\n"
	      "URL,http:///nohost,\n",
	      &r);
	CHECK_EQ_INT(r.rc, 0);
	CHECK_EQ_STR(r.out, "bare.example.com\nslash.example.com\nauth.example.com\n2001:db8::5\n"
			    "198.51.100.16\nnoscheme.example.com\n");
	CHECK_EQ_INT(r.st.skipped, 2);
}

/* ---- STIX details -------------------------------------------------- */

#define STIX_HEAD                                                                           \
	"<stix:STIX_Package xmlns:stix=\"http://stix.mitre.org/stix-1\" "                      \
	"xmlns:cybox=\"http://cybox.mitre.org/cybox-2\" "                                      \
	"xmlns:a=\"http://cybox.mitre.org/objects#AddressObject-2\" "                          \
	"xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><stix:Observables>"
#define STIX_TAIL "</stix:Observables></stix:STIX_Package>"
#define ADDR(attrs, v)                                                                      \
	"<cybox:Observable><cybox:Object><cybox:Properties xsi:type='a:AddressObjectType'>"    \
	"<a:Address_Value" attrs ">" v "</a:Address_Value></cybox:Properties></cybox:Object>"  \
	"</cybox:Observable>"

MM_TEST(stix_ranges)
{
	struct res r;
	convz("STIX",
	      STIX_HEAD ADDR(" condition='InclusiveBetween'", "192.0.2.10##comma##192.0.2.20")
		      STIX_TAIL,
	      &r);
	CHECK_EQ_INT(r.rc, 0);
	CHECK_EQ_STR(r.out, "192.0.2.10/31\n192.0.2.12/30\n192.0.2.16/30\n192.0.2.20/32\n");
	convz("STIX",
	      STIX_HEAD ADDR(" condition='InclusiveBetween'",
			     " 2001:db8:: ##comma## 2001:db8::ffff ") STIX_TAIL,
	      &r);
	CHECK_EQ_STR(r.out, "2001:db8::/112\n");
	convz("STIX",
	      STIX_HEAD ADDR(" condition='InclusiveBetween'", "198.51.100.7##comma##198.51.100.7")
		      ADDR(" condition='InclusiveBetween'", "198.51.100.9##comma##198.51.100.8")
			      ADDR(" condition='InclusiveBetween'", "198.51.100.9##comma##2001:db8::1")
				      ADDR(" condition='InclusiveBetween'", "198.51.100.9")
		      STIX_TAIL,
	      &r);
	CHECK_EQ_INT(r.rc, 0);
	CHECK_EQ_STR(r.out, "198.51.100.7/32\n");
	CHECK_EQ_INT(r.st.skipped, 3);
	/* everything: the /0 is refused, nothing loops */
	convz("STIX",
	      STIX_HEAD ADDR(" condition='InclusiveBetween'", "0.0.0.0##comma##255.255.255.255")
		      ADDR(" condition='InclusiveBetween'",
			   "::##comma##ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")
			      ADDR("", "198.51.100.3") STIX_TAIL,
	      &r);
	CHECK_EQ_INT(r.rc, 0);
	CHECK_EQ_STR(r.out, "198.51.100.3\n");
	CHECK_EQ_INT(r.st.skipped, 2);
	/* 0.0.0.1 .. 255.255.255.254: 62 blocks (/32 up to /2 and back); the
	 * twelve wider than /8 skipped */
	convz("STIX",
	      STIX_HEAD ADDR(" condition='InclusiveBetween'", "0.0.0.1##comma##255.255.255.254")
		      STIX_TAIL,
	      &r);
	CHECK_EQ_INT(r.rc, 0);
	CHECK_EQ_INT(r.st.written + r.st.skipped, 62);
	CHECK_EQ_INT(r.st.skipped, 12);
}

MM_TEST(stix_conditions_delimiters_entities)
{
	struct res r;
	convz("STIX",
	      STIX_HEAD ADDR(" condition=\"Equals\" apply_condition=\"ANY\"",
			     "198.51.100.20##comma## 198.51.100.21 ##comma##198.51.100.22")
		      ADDR(" condition='Equals' apply_condition='NONE'", "198.51.100.23")
			      ADDR(" condition='Contains'", "198.51.100.24")
				      ADDR(" condition='FitsPattern'", "198\\.51\\..*")
					      ADDR(" delimiter='|'", "198.51.100.25|198.51.100.26")
						      ADDR("", "&#49;98.51.100.&#x32;7")
							      ADDR("", "198.51.100.28<!-- note -->")
								      ADDR("", "&e;198.51.100.29")
									      ADDR("", "198.51.100.&lt;30")
		      STIX_TAIL,
	      &r);
	CHECK_EQ_INT(r.rc, 0);
	CHECK_EQ_STR(r.out, "198.51.100.20\n198.51.100.21\n198.51.100.22\n198.51.100.25\n"
			    "198.51.100.26\n198.51.100.27\n198.51.100.28\n");
	CHECK_EQ_INT(r.st.skipped, 5);
}

MM_TEST(stix_object_kinds)
{
	struct res r;
	convz("STIX",
	      "<s:STIX_Package xmlns:s='x' xmlns:c='y' xmlns:x='z'><s:Observables>"
	      /* no xsi:type on Properties (a minimal exporter) */
	      "<c:Properties category='ipv4-addr'><A:Address_Value>198.51.100.40</A:Address_Value>"
	      "</c:Properties>"
	      /* an e-mail message's From: not an IP */
	      "<c:Properties x:type='EmailMessageObj:EmailMessageObjectType'><E:Header>"
	      "<E:From category='e-mail'><A:Address_Value>a@example.com</A:Address_Value></E:From>"
	      "<E:X_Originating_IP category='ipv4-addr'><A:Address_Value>198.51.100.41"
	      "</A:Address_Value></E:X_Originating_IP></E:Header></c:Properties>"
	      /* a MAC address */
	      "<c:Properties category='mac'><A:Address_Value>00:11:22:33:44:55</A:Address_Value>"
	      "</c:Properties>"
	      /* Value of some other object: not read */
	      "<c:Properties x:type='WinRegistryKeyObj:WindowsRegistryKeyObjectType'>"
	      "<W:Value>198.51.100.42</W:Value></c:Properties>"
	      /* a hostname object */
	      "<c:Properties x:type='HostnameObj:HostnameObjectType'>"
	      "<H:Hostname_Value>host.example.com</H:Hostname_Value></c:Properties>"
	      /* URIs: a domain-name URI, a URN */
	      "<c:Properties x:type='URIObj:URIObjectType' type='Domain Name'>"
	      "<U:Value>uri.example.com</U:Value></c:Properties>"
	      "<c:Properties x:type='URIObj:URIObjectType' type='General URN'>"
	      "<U:Value>urn:example:1</U:Value></c:Properties>"
	      /* self-closing and empty values */
	      "<c:Properties x:type='DomainNameObj:DomainNameObjectType'><D:Value/>"
	      "<D:Value></D:Value></c:Properties>"
	      "</s:Observables></s:STIX_Package>",
	      &r);
	CHECK_EQ_INT(r.rc, 0);
	CHECK_EQ_STR(r.out, "198.51.100.40\n198.51.100.41\nhost.example.com\nuri.example.com\n");
	CHECK_EQ_INT(r.st.skipped, 3);
}

/* ---- wrong formats and hostile input ------------------------------- */

MM_TEST(wrong_format_is_an_error)
{
	static const char txt[] = "# ops\n198.51.100.50\n198.51.100.51\n";
	struct res r;
	convz("STIX", txt, &r);
	CHECK_EQ_INT(r.rc, MM_EPARSE);
	CHECK(strstr(r.err.msg, "not XML") != NULL);
	CHECK(strstr(r.err.msg, "STIX") != NULL);
	convz("OTX_CSV", txt, &r);
	CHECK_EQ_INT(r.rc, MM_EPARSE);
	CHECK(strstr(r.err.msg, "no addresses, CIDRs or domains") != NULL);
	CHECK(strstr(r.err.msg, "format is OTX_CSV") != NULL);
	CHECK(strstr(r.err.msg, "2 entries skipped") != NULL);
	convz("FIRE_EYE", txt, &r);
	CHECK_EQ_INT(r.rc, MM_EPARSE);
	/* XML without any indicator we read */
	convz("STIX", "<?xml version='1.0'?><a><b>198.51.100.1</b></a>", &r);
	CHECK_EQ_INT(r.rc, MM_EPARSE);
	CHECK(strstr(r.err.msg, "STIX document") != NULL);
	/* STIX 2 JSON */
	convz("STIX", " {\"type\": \"bundle\", \"objects\": []}", &r);
	CHECK_EQ_INT(r.rc, MM_EPARSE);
	CHECK(strstr(r.err.msg, "STIX 2") != NULL);
	convz("STIX", "\xff\xfe<\0?\0", &r);
	CHECK_EQ_INT(r.rc, MM_EPARSE);
	CHECK(strstr(r.err.msg, "UTF-16") != NULL);
	/* empty documents */
	convz("ALIEN_VAULT", "", &r);
	CHECK_EQ_INT(r.rc, MM_EPARSE);
	convz("PROOF_POINT", "ip, category, score\n", &r);
	CHECK_EQ_INT(r.rc, MM_EPARSE);
	convz("NOPE", txt, &r);
	CHECK_EQ_INT(r.rc, MM_EINVAL);
	/* TXT stays as it was: passed through, lines counted */
	convz("TXT", txt, &r);
	CHECK_EQ_INT(r.rc, 0);
	CHECK_EQ_INT(r.st.written, 2);
	CHECK_EQ_STR(r.out, txt);
}

MM_TEST(stix_refuses_doctype_and_entities)
{
	struct res r;
	/* XXE: the external entity is never declared, let alone read */
	convz("STIX",
	      "<?xml version='1.0'?>\n<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>\n"
	      STIX_HEAD ADDR("", "&e;") ADDR("", "198.51.100.60") STIX_TAIL,
	      &r);
	CHECK_EQ_INT(r.rc, MM_EPARSE);
	CHECK(strstr(r.err.msg, "line 2") != NULL);
	CHECK(strstr(r.err.msg, "DOCTYPE") != NULL);
	CHECK(strstr(r.out, "root") == NULL);
	/* a billion laughs */
	convz("STIX",
	      "<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;\">]>"
	      "<lolz>&lol2;</lolz>",
	      &r);
	CHECK_EQ_INT(r.rc, MM_EPARSE);
	/* an entity used without a DTD stays as written and is skipped */
	convz("STIX", STIX_HEAD ADDR("", "&xxe;") ADDR("", "198.51.100.61") STIX_TAIL, &r);
	CHECK_EQ_INT(r.rc, 0);
	CHECK_EQ_STR(r.out, "198.51.100.61\n");
	CHECK_EQ_INT(r.st.skipped, 1);
}

MM_TEST(stix_truncated_and_deep)
{
	struct res r;
	struct mm_buf b;
	int i;

	convz("STIX", STIX_HEAD ADDR("", "198.51.100.62") "<a:Address_Value cond", &r);
	CHECK_EQ_INT(r.rc, MM_EPARSE);
	CHECK(strstr(r.err.msg, "ends inside") != NULL);
	convz("STIX", STIX_HEAD "<!-- never closed", &r);
	CHECK_EQ_INT(r.rc, MM_EPARSE);
	convz("STIX", STIX_HEAD "<![CDATA[ never closed", &r);
	CHECK_EQ_INT(r.rc, MM_EPARSE);

	/* 100 000 nested elements: refused at STIX_MAX_DEPTH, no recursion */
	mm_buf_init(&b, 8u << 20);
	for (i = 0; i < 100000; i++)
		mm_buf_addz(&b, "<a>");
	conv("STIX", b.p, b.len, &r);
	CHECK_EQ_INT(r.rc, MM_EPARSE);
	CHECK(strstr(r.err.msg, "deeper than 256") != NULL);
	/* 200 levels are fine */
	mm_buf_reset(&b);
	for (i = 0; i < 200; i++)
		mm_buf_addz(&b, "<a>");
	mm_buf_addz(&b, ADDR("", "198.51.100.63"));
	for (i = 0; i < 200; i++)
		mm_buf_addz(&b, "</a>");
	conv("STIX", b.p, b.len, &r);
	CHECK_EQ_INT(r.rc, 0);
	CHECK_EQ_STR(r.out, "198.51.100.63\n");
	mm_buf_free(&b);
}

/* A line or a field of megabytes: bounded, linear, and never cut into an
 * indicator that was not there (each huge value starts like an address). */
MM_TEST(huge_lines)
{
	static const struct {
		const char *fmt, *pre, *post;
	} cases[] = {
		{"OTX_CSV", "IPv4,198.51.100.7", ",x\r\nIPv4,198.51.100.70,\r\n"},
		{"OTX_CSV", "IPv4,\"198.51.100.7", "\",x\r\nIPv4,198.51.100.70,\r\n"},
		{"PROOF_POINT", "198.51.100.7", ",1\n198.51.100.70,1\n"},
		{"FIRE_EYE", "reportId,ip\n1,\"198.51.100.7", "\"\n2,198.51.100.70\n"},
		{"ALIEN_VAULT", "198.51.100.7", "#x\n198.51.100.70#y\n"},
		{"STIX", STIX_HEAD "<a:Address_Value>198.51.100.7",
		 "</a:Address_Value>" ADDR("", "198.51.100.70") STIX_TAIL},
	};
	size_t k;
	struct res r;

	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct mm_buf b;
		size_t i;
		mm_buf_init(&b, 16u << 20);
		mm_buf_addz(&b, cases[k].pre);
		for (i = 0; i < (8u << 20) / 64; i++)
			mm_buf_addz(&b, "1111111111111111111111111111111111111111111111111111111111111111");
		mm_buf_addz(&b, cases[k].post);
		conv(cases[k].fmt, b.p, b.len, &r);
		if (r.rc || strcmp(r.out, "198.51.100.70\n"))
			fprintf(stderr, "  case %zu (%s): rc %d, out '%s', err '%s'\n", k, cases[k].fmt,
				r.rc, r.out, r.err.msg);
		CHECK_EQ_INT(r.rc, 0);
		CHECK_EQ_STR(r.out, "198.51.100.70\n");
		CHECK_EQ_INT(r.st.skipped, 1);
		mm_buf_free(&b);
	}
}

MM_TEST(limits_and_allocation_failures)
{
	static const char *const fmts[] = {"OTX_CSV", "PROOF_POINT", "FIRE_EYE", "ALIEN_VAULT",
					   "STIX"};
	const char *docs[] = {"IPv4,198.51.100.80\n", "198.51.100.80,1\n", "reportId,ip\n1,198.51.100.80\n",
			      "198.51.100.80#1\n", STIX_HEAD ADDR("", "198.51.100.80") STIX_TAIL};
	struct mm_listfmt_stats st;
	struct mm_err err;
	struct mm_buf out;
	size_t k;
	long n;

	/* the output's cap */
	for (k = 0; k < sizeof(fmts) / sizeof(fmts[0]); k++) {
		mm_buf_init(&out, 4);
		CHECK_EQ_INT(mm_listfmt_convert(fmts[k], docs[k], strlen(docs[k]), &out, &st, &err),
			     MM_ETOOBIG);
		mm_buf_free(&out);
	}
	/* every allocation failing in turn: an error, never a crash or leak */
	for (k = 0; k < sizeof(fmts) / sizeof(fmts[0]); k++) {
		for (n = 0; n < 8; n++) {
			int rc;
			mm_buf_init(&out, 1u << 20);
			mm_mem_fail_after(n);
			rc = mm_listfmt_convert(fmts[k], docs[k], strlen(docs[k]), &out, &st, &err);
			mm_mem_fail_after(-1);
			CHECK(rc == 0 || rc == MM_ENOMEM || rc == MM_ETOOBIG);
			if (rc == 0)
				CHECK_EQ_STR(out.p, "198.51.100.80\n");
			mm_buf_free(&out);
		}
	}
}
