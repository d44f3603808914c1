/* test_dnsbehav.c - the DNS behaviour detector (exfiltration, DGA bursts,
 * metadata rebinding), its name functions (dgascore.h), and the
 * domain-reputation list types of the threat-intel detector: positive
 * and look-alike cases for each type and each threshold edge, the DGA
 * score's false-positive rate on real popular domains, save/load (two
 * scans = one), merge order, and malformed state blobs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "detect/detect.h"
#include "detect/dgascore.h"
#include "mmtest.h"
#include "parse/route53.h"

/* ~570 real popular names: sites, clouds, CDNs, SaaS, package hosts */
static const char *const real_domains[] = {
	"163.com", "1e100.net", "1password.com", "a2z.com", "aadcdn.msftauth.net", "ably.io",
	"adjust.com", "adnxs.com", "adobe.com", "adobedtm.com", "adobelogin.com", "adp.com",
	"adsrvr.org", "airbnb.com", "airtable.com", "akadns.net", "akamai.net", "akamaiedge.net",
	"akamaihd.net", "akamaistream.net", "akamaized.net", "alibaba.com", "alicdn.com",
	"aliexpress.com", "aliyuncs.com", "alpinelinux.org", "amazon-adsystem.com", "amazon.com",
	"amazonaws.com", "amazoncognito.com", "amazontrust.com", "amazonwebservices.com", "amd.com",
	"amplitude.com", "ansible.com", "apache.org", "apple.com", "appnexus.com", "appsflyer.com",
	"appspot.com", "archive.org", "archlinux.org", "arkoselabs.com", "asana.com", "atlassian.com",
	"atlassian.net", "attentivemobile.com", "audible.com", "auth0.com", "aws.amazon.com",
	"awsapps.com", "awsstatic.com", "azure.com", "azureedge.net", "azurefd.net",
	"azurewebsites.net", "b-cdn.net", "baidu.com", "bandcamp.com", "battle.net",
	"bazaarvoice.com", "bbc.co.uk", "bbc.com", "bdstatic.com", "bestbuy.com",
	"bigquery.googleapis.com", "bing.com", "bit.ly", "bitbucket.org", "bitwarden.com",
	"blizzard.com", "bloomberg.com", "booking.com", "bootstrapcdn.com", "box.com", "boxcdn.net",
	"branch.io", "braze.com", "brew.sh", "brightcove.com", "bunnycdn.com", "bytedance.com",
	"byteoversea.com", "calendly.com", "canonical.com", "canva.com", "casalemedia.com",
	"cdn-apple.com", "cdn77.org", "cdninstagram.com", "cdnjs.com", "centos.org", "chartbeat.com",
	"chef.io", "chess.com", "chocolatey.org", "circleci.com", "cisco.com", "clickup.com",
	"cloudapp.net", "cloudera.com", "cloudflare-dns.com", "cloudflare.com", "cloudflare.net",
	"cloudfront-dns.com", "cloudfront.net", "cloudfunctions.net", "cnn.com",
	"cockroachlabs.cloud", "codecov.io", "comodoca.com", "confluent.io", "consul.io",
	"costco.com", "coursera.org", "crates.io", "crisp.chat", "criteo.com", "criteo.net",
	"crunchyroll.com", "customer.io", "dashlane.com", "databricks.com", "datadoghq.com",
	"datadoghq.eu", "daum.net", "debian.org", "deezer.com", "dell.com", "demdex.net",
	"dependabot.com", "digicert.com", "digitalocean.com", "discord.com", "discord.gg",
	"discordapp.com", "disney.com", "disneyplus.com", "docker.com", "docker.io", "docusign.com",
	"docusign.net", "doordash.com", "doubleclick.net", "doubleverify.com", "drift.com",
	"dropbox.com", "dropboxapi.com", "dropboxstatic.com", "duolingo.com", "duosecurity.com",
	"ea.com", "ebay.com", "eclipse.org", "edgecastcdn.net", "edgekey.net", "edgesuite.net",
	"elastic-cloud.com", "elastic.co", "elasticbeanstalk.com", "entrust.net", "epicgames.com",
	"espn.com", "etsy.com", "expedia.com", "expressvpn.com", "facebook.com", "fastly.net",
	"fastlylb.net", "fastmail.com", "fbcdn.net", "fbsbx.com", "fedoraproject.org", "figma.com",
	"firebase.com", "firebaseapp.com", "firebaseio.com", "firefox.com", "flathub.org", "fly.io",
	"footprint.net", "forbes.com", "force.com", "foxnews.com", "freebsd.org", "freshdesk.com",
	"freshworks.com", "fullstory.com", "gcr.io", "getsatisfaction.com", "ggpht.com", "github.com",
	"githubassets.com", "githubusercontent.com", "gitlab.com", "globalsign.com", "globo.com",
	"gnu.org", "godaddy.com", "golang.org", "google-analytics.com", "google.com",
	"googleadservices.com", "googleapis.com", "googlesyndication.com", "googletagmanager.com",
	"googleusercontent.com", "googlevideo.com", "gorgias.com", "grafana.com", "grafana.net",
	"grammarly.com", "gravatar.com", "gstatic.cn", "gstatic.com", "gvt1.com", "gvt2.com",
	"hashicorp.com", "haskell.org", "hbomax.com", "hcaptcha.com", "hellosign.com", "helm.sh",
	"helpscout.net", "heroku.com", "herokuapp.com", "hetzner.com", "homebrew.sh", "homedepot.com",
	"hotjar.com", "hp.com", "hs-scripts.com", "hsforms.com", "huawei.com", "hubapi.com",
	"hubspot.com", "hulu.com", "hwcdn.net", "ibm.com", "icloud.com", "imdb.com", "imperva.com",
	"incapsula.com", "indexww.com", "influxdata.com", "instacart.com", "instagram.com",
	"intel.com", "intercom.io", "intercomcdn.com", "intuit.com", "iterable.com", "java.com",
	"jd.com", "jenkins.io", "jetbrains.com", "jira.com", "jsdelivr.net", "jtvnw.net",
	"jwpcdn.com", "jwplayer.com", "k8s.io", "kakao.com", "kaltura.com", "kernel.org",
	"khanacademy.org", "klaviyo.com", "kotlinlang.org", "kubernetes.io", "kxcdn.com",
	"lastpass.com", "launchdarkly.com", "launchpad.net", "leagueoflegends.com", "lencr.org",
	"lenovo.com", "letsencrypt.org", "lg.com", "line.me", "linkedin.com", "linode.com",
	"list-manage.com", "live.com", "livechatinc.com", "llnwd.net", "loggly.com", "loom.com",
	"lyft.com", "mail.ru", "mailchimp.com", "mailgun.org", "mandrillapp.com", "mariadb.org",
	"marketo.com", "maven.org", "media-amazon.com", "medium.com", "mercadolibre.com.ar",
	"messenger.com", "microsoft.com", "microsoftazuread-sso.com", "microsoftonline.com",
	"minecraft.net", "miro.com", "mixpanel.com", "mktoresp.com", "moatads.com", "monday.com",
	"mongodb.com", "mongodb.net", "mozilla.net", "mozilla.org", "msauth.net", "msedge.net",
	"msftauth.net", "msftncsi.com", "msn.com", "mux.com", "mysql.com", "mzstatic.com",
	"naver.com", "netbsd.org", "netflix.com", "netlify.app", "netlify.com", "newrelic.com",
	"nflxext.com", "nflximg.net", "nflxso.net", "nflxvideo.net", "nicovideo.jp", "nintendo.net",
	"nodejs.org", "nordvpn.com", "notion.so", "npmjs.com", "npmjs.org", "nr-data.net",
	"nuget.org", "nvidia.com", "nytimes.com", "ocsp.digicert.com", "office.com", "office365.com",
	"ok.ru", "okta.com", "oktacdn.com", "olark.com", "omtrdc.net", "onedrive.com", "onelogin.com",
	"onenote.com", "onesignal.com", "openbsd.org", "openx.net", "optimizely.com", "oracle.com",
	"outbrain.com", "outlook.com", "ovh.net", "pagerduty.com", "pandora.com", "paramount.com",
	"parsely.com", "paypal.com", "paypalobjects.com", "peacocktv.com", "perimeterx.net",
	"perl.org", "php.net", "pinimg.com", "pinterest.com", "pkg.dev", "pki.goog",
	"planetscale.com", "playstation.com", "playstation.net", "postgresql.org",
	"powershellgallery.com", "primevideo.com", "prometheus.io", "proton.me", "protonmail.com",
	"pubmatic.com", "puppet.com", "pusher.com", "pypi.org", "python.org", "pythonhosted.org",
	"qq.com", "qualtrics.com", "quantserve.com", "quay.io", "quickbooks.com", "quora.com",
	"rackspace.com", "rakuten.co.jp", "rbxcdn.com", "recaptcha.net", "reddit.com", "redhat.com",
	"redis.io", "redislabs.com", "render.com", "renovatebot.com", "reuters.com", "riotgames.com",
	"roblox.com", "rubiconproject.com", "ruby-lang.org", "rubygems.org", "run.app",
	"rust-lang.org", "s3.amazonaws.com", "salesforce.com", "salesforceliveagent.com",
	"saltproject.io", "samsung.com", "sap.com", "sc-cdn.net", "scala-lang.org", "scaleway.com",
	"scdn.co", "scorecardresearch.com", "sectigo.com", "segment.com", "segment.io",
	"sendgrid.com", "sendgrid.net", "sentry.io", "servicenow.com", "sfx.ms", "sharepoint.com",
	"shazam.com", "shopify.com", "shopifycdn.com", "signal.org", "sina.com.cn", "skype.com",
	"slack-edge.com", "slack.com", "smartsheet.com", "snapchat.com", "snapcraft.io",
	"snowflakecomputing.com", "snyk.io", "sohu.com", "sonarcloud.io", "sony.com",
	"soundcloud.com", "sourceforge.net", "split.io", "splunk.com", "splunkcloud.com",
	"spotify.com", "squarespace.com", "ssl-images-amazon.com", "sstatic.net", "stackexchange.com",
	"stackoverflow.com", "stackpathdns.com", "statsig.com", "statuspage.io", "steamcommunity.com",
	"steampowered.com", "steamstatic.com", "stripe.com", "stripe.network", "substack.com",
	"sucuri.net", "sumologic.com", "supabase.co", "supabase.com", "surveymonkey.com", "swift.org",
	"t.co", "taboola.com", "taobao.com", "target.com", "tawk.to", "teams.microsoft.com",
	"telegram.org", "terraform.io", "theguardian.com", "tidal.com", "tiktok.com", "tiktokcdn.com",
	"timescale.com", "tinyurl.com", "tmall.com", "trafficmanager.net", "travis-ci.com",
	"travis-ci.org", "trello.com", "tripadvisor.com", "trustpilot.com", "ttvnw.net", "tumblr.com",
	"tutanota.com", "twilio.com", "twimg.com", "twitch.tv", "twitchcdn.net", "twitter.com",
	"typeform.com", "typekit.net", "uber.com", "ubuntu.com", "udemy.com", "unity3d.com",
	"unpkg.com", "unrealengine.com", "uol.com.br", "usertrust.com", "uservoice.com",
	"vaultproject.io", "vercel.app", "vercel.com", "verisign.com", "viber.com", "vidyard.com",
	"vimeo.com", "vimeocdn.com", "visualstudio.com", "vk.com", "vmware.com", "vsassets.io",
	"vultr.com", "walmart.com", "washingtonpost.com", "weather.com", "web.app", "webex.com",
	"weibo.com", "whatsapp.com", "whatsapp.net", "wikidata.org", "wikimedia.org", "wikipedia.org",
	"wiktionary.org", "windows.net", "windowsupdate.com", "wistia.com", "wistia.net", "wix.com",
	"wixstatic.com", "wordpress.com", "wordpress.org", "workday.com", "wp.com", "wsj.com",
	"x.com", "xboxlive.com", "xero.com", "xiaomi.com", "yahoo.co.jp", "yahoo.com", "yandex.com",
	"yandex.net", "yandex.ru", "yelp.com", "yotpo.com", "youtube.com", "ytimg.com",
	"zdassets.com", "zendesk.com", "zoho.com", "zoom.us",
	NULL,
};

/* 71 samples shaped like 20 DGA families' output (Conficker, Cryptolocker,
 * Ramnit, Locky, Necurs, Tinba, GameOver Zeus, Qakbot, Pykspa, Ranbyus, Emotet,
 * Bamital, Dyre, Padcrypt, ...) */
static const char *const dga_domains[] = {
	"0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c.com", "13ufxj1k8dvsf1fn9tuclk0fz3.biz",
	"18q4ly81tdhsgr10ca4md9phnp.org", "1oyg5pw1tkn7fk1h9k9mn2p3le.com", "4gh2k9x7q1p8z3.com",
	"7a8b9c3d2e1f0a4b5c6d7e8f9a0b1c2d.info", "a9f3k2q8x7m1n5b6.net", "abqxkzjwyrtv.cc",
	"bfkdclbocoaoanal.com", "bnvkxpfmmvhjdmqfhb.com", "bqwxzjkvtmrpyl.info", "bxgfjjyhnk.info",
	"c4a2e8f1b3d7a9e5c6f0.net", "cqkwnztjxhmr.su", "cyquuqsmmu.net", "dkxjqpwmzv.xyz",
	"dzqxwvkpjmnr.pw", "ezbqwxjtkyp.net", "fgtwhqzkpmrx.org", "gfhqzxwtkrpvmj.net",
	"gjqkrpxwnmfh.org", "gtdwllcgxtkbvb.ws", "hcsddszzzc.ws", "hwpkyeimqdxj.com",
	"izzrvijdtgiwpcqtfv.org", "jgcrkuzzxsq.com", "jkzqxwvtmpbrnh.net", "k3j9x2q7w8p1.info",
	"kiqcdoqgu.com", "kxtvppwhcftgs.com", "lhvqpqsibqml.com", "ljxkjrtaaqj.work",
	"lkjhgqwpzxcv.me", "lwfnkgqhiyyvb.net", "mkxqjvzwbptr.top", "mvqnxkjwtr.top",
	"mxqzrtkplwvbnj.com", "nlbmgfva.in", "nqxlhgmkjtuvoppr.su", "oxjbqnlktyrw.info",
	"pjdokqalrmnvkdqy.ru", "ptrwqzxkcvbn.biz", "pzkwqjmxvtrbhg.biz", "q7x2k9p4m8z1w3.org",
	"qlpcvbwtvdyhwg.com", "qpzmxnvbalsk.com", "qvyqcnmpkwe.ru", "qwlfkdtzbv.cc",
	"qxwnpuqbwzyxvsnb.com", "rfqxzjkpwmtn.biz", "rlmhtbtgkvfhyix.ru", "rrsmiiboybeh.in",
	"tmxkudaeajqfvwuk.eu", "tnxqkrjvmhwz.in", "ugmimswcuq.info", "uyakjnkoibymxhfr.com",
	"vhkzmqtpxwe.com", "vqzxjwkmtprbln.org", "wgfqxiqtpedjejh.com", "wlhvfqpcdyqn.com",
	"wsxqjqbnxh.net", "wtvmzqkxpjrbfn.ru", "xgqfvfjmsxdck.biz", "xkgwlxmyjjoklp.pw",
	"xmvbqprtzk.ws", "xsjqkzvwmtpbrl.com", "xuxmxgqgbsixjvnt.eu", "yjdkfhqpwoeux.net",
	"ylgsfhiyce.com", "z4f5e6a7b8c9d0e1f2a3b4c5d6e7f8a9b0.cn", "zxkqwjvpmtrbnf.org",
	NULL,
};

/* The label left of the public suffix. */
static int score_of(const char *name)
{
	size_t off, len;
	const char *dot;
	if (mm_dns_base(name, strlen(name), &off, &len))
		return -1;
	dot = memchr(name + off, '.', len);
	return mm_dga_score(name + off, (size_t)(dot - (name + off)));
}

MM_TEST(base_domain)
{
	size_t off = 0, len = 0;
	const char *n;
	char big[300];
#define BASE(name, want)                                                                \
	do {                                                                            \
		n = name;                                                               \
		CHECK_EQ_INT(mm_dns_base(n, strlen(n), &off, &len), 0);                 \
		CHECK(len == strlen(want) && memcmp(n + off, want, len) == 0);          \
	} while (0)
	BASE("www.example.com", "example.com");
	BASE("a.b.c.example.com.", "example.com");
	BASE("example.com", "example.com");
	BASE("news.bbc.co.uk", "bbc.co.uk");
	BASE("WWW.BBC.CO.UK.", "BBC.CO.UK");
	BASE("shop.example.com.au", "example.com.au");
	BASE("x.y.ne.jp", "y.ne.jp");
	BASE("s3.us-east-1.amazonaws.com", "amazonaws.com");
	BASE("1.0.0.10.in-addr.arpa", "in-addr.arpa");
	CHECK_EQ_INT(mm_dns_base("com", 3, &off, &len), -1);
	CHECK_EQ_INT(mm_dns_base("com.", 4, &off, &len), -1);
	CHECK_EQ_INT(mm_dns_base("co.uk", 5, &off, &len), -1);
	CHECK_EQ_INT(mm_dns_base("", 0, &off, &len), -1);
	CHECK_EQ_INT(mm_dns_base(".", 1, &off, &len), -1);
	CHECK_EQ_INT(mm_dns_base("a..com", 6, &off, &len), -1);
	CHECK_EQ_INT(mm_dns_base(".com", 4, &off, &len), -1);
	CHECK_EQ_INT(mm_dns_base("x.com..", 7, &off, &len), -1);
	memset(big, 'a', sizeof(big));
	big[250] = '.';
	CHECK_EQ_INT(mm_dns_base(big, 254, &off, &len), -1);	/* longer than 253 */
	CHECK_EQ_INT(mm_dns_base(big, 253, &off, &len), 0);
#undef BASE
}

MM_TEST(entropy)
{
	CHECK(mm_dns_entropy("", 0) == 0);
	CHECK(mm_dns_entropy("aaaa", 4) == 0);
	CHECK(mm_dns_entropy("ab", 2) > 0.99 && mm_dns_entropy("ab", 2) < 1.01);
	CHECK(mm_dns_entropy("a.B", 3) > 0.99 && mm_dns_entropy("AB", 2) < 1.01); /* dots out, case folded */
	CHECK(mm_dns_entropy("0123456789abcdef", 16) > 3.99);
}

/* The score's false-positive rate on real names and its detection rate
 * on DGA samples at the detector's default threshold (55), printed. */
MM_TEST(dga_score_real_vs_generated)
{
	int i, nreal = 0, fp = 0, ndga = 0, tp = 0, fp40 = 0;
	for (i = 0; real_domains[i]; i++) {
		int s = score_of(real_domains[i]);
		CHECK(s >= 0);
		nreal++;
		if (s >= 55) {
			fp++;
			fprintf(stderr, "  real name scoring >= 55: %s (%d)\n", real_domains[i], s);
		}
		fp40 += s >= 40;
	}
	for (i = 0; dga_domains[i]; i++) {
		int s = score_of(dga_domains[i]);
		ndga++;
		tp += s >= 55;
	}
	fprintf(stderr, "  dga score >= 55: %d of %d real names (%.2f %%; >= 40: %d), %d of %d DGA "
		"samples (%.1f %%)\n", fp, nreal, 100.0 * fp / nreal, fp40, tp, ndga, 100.0 * tp / ndga);
	CHECK(nreal >= 500);
	CHECK(ndga >= 70);
	CHECK(fp * 100 <= nreal);	/* at most 1 % */
	CHECK(tp * 10 >= ndga * 9);	/* at least 90 % */
}

MM_TEST(dga_score_edges)
{
	CHECK_EQ_INT(mm_dga_score("kxtvpph", 7), 0);		/* shorter than 8 */
	CHECK(mm_dga_score("kxtvppwh", 8) > 0);
	CHECK_EQ_INT(mm_dga_score("xn--bcher-kva", 13), 0);	/* punycode */
	CHECK_EQ_INT(mm_dga_score("kxtv_pwhcft", 11), 0);	/* not a host name */
	CHECK_EQ_INT(mm_dga_score("kxtv\xffpwhcft", 11), 0);
	CHECK(mm_dga_score("KXTVPPWHCFTGS", 13) == mm_dga_score("kxtvppwhcftgs", 13));
	CHECK_EQ_INT(mm_dga_score("7a8b9c3d2e1f0a4b5c6d", 20), 100); /* a hex digest */
	CHECK(mm_dga_score("documentation", 13) < 20);
	CHECK(mm_dga_score("international-business", 22) < 20);
}

/* ---- the detector --------------------------------------------------------- */

struct fx {
	struct mm_intel *in;
	struct mm_agg *agg;
	struct mm_detect_ctx c;
	struct mm_file_ctx fc;
	double p[MM_PARAMS_MAX];
	char mem[1 << 16];
	struct mm_arena scratch;
	uint64_t line;
};

static void setup(struct fx *f)
{
	struct mm_err e;
	memset(f, 0, sizeof(*f));
	CHECK_EQ_INT(mm_intel_new(&f->in), 0);
	CHECK_EQ_INT(mm_intel_build(f->in, &e), 0);
	CHECK_EQ_INT(mm_agg_new(&f->agg, 1000), 0);
	f->c.intel = f->in;
	f->c.agg = f->agg;
	mm_file_ctx_from_path(&f->fc, "t/AWSLogs/111122223333/vpcdnsquerylogs/vpc-1/q.log");
	f->c.file = &f->fc;
	mm_detector_defaults(&mm_det_dnsbehav, f->p);
	f->c.params = f->p;
	mm_arena_init(&f->scratch, f->mem, sizeof(f->mem));
}

/* The index of a dnsbehav param by name (its slot in fx.p). */
static int param(const char *name)
{
	int i;
	for (i = 0; mm_det_dnsbehav.params[i].name; i++)
		if (strcmp(mm_det_dnsbehav.params[i].name, name) == 0)
			return i;
	CHECK(0);
	return 0;
}

static void teardown(struct fx *f)
{
	mm_agg_free(f->agg);
	mm_intel_free(f->in);
}

/* One resolver record at 2024-05-01 hh:mm:ss through state st. */
static void q(struct fx *f, void *st, int hh, int mm, int ss, const char *name, const char *inst,
	      const char *rcode, const char *answers)
{
	char line[2048];
	struct mm_event ev;
	struct mm_err e;
	snprintf(line, sizeof(line),
		 "{\"version\":\"1.100000\",\"account_id\":\"111122223333\",\"region\":\"us-east-1\","
		 "\"vpc_id\":\"vpc-1\",\"query_timestamp\":\"2024-05-01T%02d:%02d:%02dZ\","
		 "\"query_name\":\"%s\",\"query_type\":\"A\",\"query_class\":\"IN\",\"rcode\":\"%s\","
		 "\"answers\":%s,\"srcaddr\":\"10.0.0.5\",\"srcport\":\"53111\",\"transport\":\"UDP\","
		 "\"srcids\":{\"instance\":\"%s\"}}",
		 hh, mm, ss, name, rcode ? rcode : "NOERROR", answers ? answers : "[]", inst);
	memset(&ev, 0, sizeof(ev));
	mm_arena_reset(&f->scratch);
	CHECK_EQ_INT(mm_dns_parse(line, strlen(line), &f->scratch, &ev, &e), 0);
	ev.loc.file = "q.log";
	ev.loc.line = ++f->line;
	mm_det_dnsbehav.on_event(st, &f->c, &ev);
}

/* Findings of type t on resource r (count of findings, and the first). */
static int nfind(struct fx *f, const char *t, const char *r, struct mm_finding **out)
{
	size_t i;
	int n = 0;
	for (i = 0; i < mm_agg_count(f->agg); i++) {
		struct mm_finding *x = mm_agg_at(f->agg, i);
		char key[256];
		mm_finding_resource_key(x, key, sizeof(key));
		if (strcmp(x->type, t) == 0 && (!r || strcmp(key, r) == 0)) {
			if (!n && out)
				*out = x;
			n++;
		}
	}
	return n;
}

#define EXFIL "Trojan:EC2/DNSDataExfiltration"
#define DGA "Trojan:EC2/DGADomainRequest.B"
#define REBIND "UnauthorizedAccess:EC2/MetadataDNSRebind"
#define I1 "i-0000000000000aaa1"
#define I2 "i-0000000000000aaa2"

/* A deterministic 'len'-character lowercase hex label for (salt, i). */
static void hexlabel(char *out, int len, unsigned salt, unsigned i)
{
	uint64_t x = (uint64_t)salt * 0x9e3779b97f4a7c15ULL + i * 0xbf58476d1ce4e5b9ULL + 1;
	int k;
	for (k = 0; k < len; k++) {
		x ^= x >> 31;
		x *= 0x94d049bb133111ebULL;
		x ^= x >> 29;
		out[k] = "0123456789abcdef"[x & 15];
	}
	out[len] = '\0';
}

/* n distinct names '<hex len>.base' at hour hh from inst. */
static void tunnel(struct fx *f, void *st, int hh, int n, int len, const char *base, const char *inst,
		   unsigned salt)
{
	char lab[80], name[200];
	int i;
	for (i = 0; i < n; i++) {
		hexlabel(lab, len, salt, (unsigned)i);
		snprintf(name, sizeof(name), "%s.%s.", lab, base);
		q(f, st, hh, i % 60, 0, name, inst, NULL, NULL);
	}
}

MM_TEST(exfil_threshold_edges)
{
	struct fx f;
	void *st;
	struct mm_finding *x = NULL;
	setup(&f);
	st = mm_det_dnsbehav.state_new();
	tunnel(&f, st, 10, 50, 40, "t.exfil.example", I1, 1);	/* 50 distinct: fires */
	tunnel(&f, st, 10, 49, 40, "t.near.example", I2, 2);	/* 49: does not */
	tunnel(&f, st, 11, 60, 29, "short.example", I2, 3);	/* labels of 29, subdomain < 50 */
	tunnel(&f, st, 12, 60, 40, "x.cloudfront.net", I2, 4);	/* quiet base */
	tunnel(&f, st, 12, 60, 40, "a.b.in-addr.arpa", I2, 5);	/* reverse lookups */
	tunnel(&f, st, 13, 60, 40, "zen.dq.spamhaus.net", I2, 6);	/* a mail server's blocklist */
	mm_det_dnsbehav.finish(st, &f.c);
	CHECK_EQ_INT(nfind(&f, EXFIL, I1, &x), 1);
	CHECK_EQ_INT(nfind(&f, EXFIL, I2, NULL), 0);
	if (x) {
		CHECK_EQ_STR(x->domain, "exfil.example");
		CHECK_EQ_INT(x->role, MM_ROLE_ACTOR);
		CHECK_EQ_STR(x->region, "us-east-1");
		CHECK_EQ_STR(x->account, "111122223333");
		CHECK(strstr(x->info, "\"distinctSubdomains\":50") != NULL);
		CHECK_EQ_INT(x->count, 1);
		CHECK_EQ_INT(x->nevidence, 4);
	}
	/* a second finish does not count the window again */
	mm_det_dnsbehav.finish(st, &f.c);
	CHECK_EQ_INT(nfind(&f, EXFIL, I1, &x), 1);
	if (x)
		CHECK_EQ_INT(x->count, 1);
	mm_det_dnsbehav.state_free(st);
	teardown(&f);
}

MM_TEST(exfil_split_labels_and_entropy)
{
	struct fx f;
	void *st;
	char a[40], b[40], name[200];
	int i;
	setup(&f);
	st = mm_det_dnsbehav.state_new();
	/* 25 + 25 characters in two labels: 50 in all, counts */
	for (i = 0; i < 50; i++) {
		hexlabel(a, 25, 7, (unsigned)i);
		hexlabel(b, 25, 8, (unsigned)i);
		snprintf(name, sizeof(name), "%s.%s.split.example.", a, b);
		q(&f, st, 9, i, 0, name, I1, NULL, NULL);
	}
	/* 50 distinct long but low-entropy labels ("aaaa...ab", "aaaa...ac") */
	for (i = 0; i < 50; i++) {
		memset(a, 'a', 36);
		a[34] = (char)('a' + i % 26);
		a[35] = (char)('a' + i / 26);
		a[36] = '\0';
		snprintf(name, sizeof(name), "%s.pad.example.", a);
		q(&f, st, 9, i, 1, name, I2, NULL, NULL);
	}
	mm_det_dnsbehav.finish(st, &f.c);
	CHECK_EQ_INT(nfind(&f, EXFIL, I1, NULL), 1);
	CHECK_EQ_INT(nfind(&f, EXFIL, I2, NULL), 0);
	mm_det_dnsbehav.state_free(st);
	teardown(&f);
}

/* The i-th DGA sample that scores as generated at the default (55). */
static const char *nth_dga(int i)
{
	int k;
	for (k = 0; dga_domains[k]; k++)
		if (score_of(dga_domains[k]) >= 55 && i-- == 0)
			return dga_domains[k];
	return NULL;
}

/* n generated domains (the samples' labels under tld) at hour hh, the
 * first nx of them NXDOMAIN. */
static void dga(struct fx *f, void *st, int hh, int n, int nx, const char *inst, const char *tld)
{
	char name[128];
	int i;
	for (i = 0; i < n; i++) {
		const char *d = nth_dga(i);
		CHECK(d != NULL);
		if (!d)
			return;
		snprintf(name, sizeof(name), "%.*s.%s.", (int)strcspn(d, "."), d, tld);
		q(f, st, hh, i, 0, name, inst, i < nx ? "NXDOMAIN" : "NOERROR", NULL);
	}
}

MM_TEST(dga_threshold_edges)
{
	struct fx f;
	void *st;
	struct mm_finding *x = NULL;
	int i;
	setup(&f);
	st = mm_det_dnsbehav.state_new();
	dga(&f, st, 10, 12, 12, I1, "com");	/* 12 NXDOMAIN: fires */
	dga(&f, st, 10, 9, 9, I2, "com");	/* 9: below 10 */
	dga(&f, st, 11, 12, 5, I2, "net");	/* 5 of 12 NXDOMAIN: not most */
	for (i = 0; real_domains[i]; i++)	/* a browsing burst, all NXDOMAIN even */
		q(&f, st, 12, i % 60, i / 60, real_domains[i], I2, "NXDOMAIN", NULL);
	mm_det_dnsbehav.finish(st, &f.c);
	CHECK_EQ_INT(nfind(&f, DGA, I1, &x), 1);
	CHECK_EQ_INT(nfind(&f, DGA, I2, NULL), 0);
	if (x) {
		CHECK(x->domain[0] != '\0');
		CHECK(strstr(x->info, "\"nxdomain\":") != NULL);
		CHECK_EQ_INT(x->role, MM_ROLE_ACTOR);
	}
	mm_det_dnsbehav.state_free(st);
	teardown(&f);
}

MM_TEST(dga_exactly_half_nx_fires)
{
	struct fx f;
	void *st;
	setup(&f);
	st = mm_det_dnsbehav.state_new();
	struct mm_finding *x = NULL;
	dga(&f, st, 10, 10, 5, I1, "com");	/* 5 of 10: share 0.5 is enough */
	dga(&f, st, 11, 10, 4, I2, "com");	/* 4 of 10: not */
	dga(&f, st, 13, 11, 11, I1, "net");	/* another hour: the same finding, counted twice */
	mm_det_dnsbehav.finish(st, &f.c);
	CHECK_EQ_INT(nfind(&f, DGA, I1, &x), 1);
	if (x) {
		CHECK_EQ_INT(x->count, 2);
		CHECK_EQ_STR(x->info, "\"generatedDomains\":11,\"nxdomain\":11");
	}
	CHECK_EQ_INT(nfind(&f, DGA, I2, NULL), 0);
	mm_det_dnsbehav.state_free(st);
	teardown(&f);
}

#define IMDS "[{\"Rdata\":\"169.254.169.254\",\"Type\":\"A\",\"Class\":\"IN\"}]"

MM_TEST(metadata_rebind)
{
	struct fx f;
	void *st;
	struct mm_finding *x = NULL;
	setup(&f);
	st = mm_det_dnsbehav.state_new();
	q(&f, st, 8, 0, 0, "rebind.attacker.example.", I1, NULL, IMDS);
	q(&f, st, 8, 1, 0, "instance-data.ec2.internal.", I2, NULL, IMDS);
	q(&f, st, 8, 2, 0, "instance-data.", I2, NULL, IMDS);
	q(&f, st, 8, 3, 0, "instance-data.eu-west-1.compute.internal.", I2, NULL, IMDS);
	q(&f, st, 8, 4, 0, "x.amazonaws.com.", I2, NULL, IMDS);
	q(&f, st, 8, 5, 0, "resolver.example.", I2, NULL,
	  "[{\"Rdata\":\"169.254.169.253\",\"Type\":\"A\",\"Class\":\"IN\"}]");
	q(&f, st, 8, 6, 0, "txt.example.", I2, NULL,
	  "[{\"Rdata\":\"169.254.169.254\",\"Type\":\"TXT\",\"Class\":\"IN\"}]");
	q(&f, st, 8, 7, 0, "arr.example.", I2, NULL, "[\"169.254.169.254\", {\"Type\":\"A\"}]");
	q(&f, st, 8, 8, 0, "v6.attacker.example.", I1, NULL,
	  "[{\"Rdata\":\"fd00:ec2::254\",\"Type\":\"AAAA\",\"Class\":\"IN\"}]");
	CHECK_EQ_INT(nfind(&f, REBIND, I1, &x), 1);
	CHECK_EQ_INT(nfind(&f, REBIND, I2, NULL), 0);
	if (x) {
		CHECK_EQ_INT(x->count, 2);
		CHECK_EQ_STR(x->domain, "v6.attacker.example");
		CHECK_EQ_STR(x->info, "\"resolvedAddress\":\"fd00:ec2::254\""); /* once, the latest's */
	}
	mm_det_dnsbehav.state_free(st);
	teardown(&f);
}

/* ---- persistence and merge ------------------------------------------------- */

/* Feed the day's records: exfil 30 + 30 in hour 10, DGA 6 + 6 in hour 11. */
static void half(struct fx *f, void *st, int part)
{
	tunnel(f, st, 10, 30, 40, "t.exfil.example", I1, 10 + (unsigned)part);
	dga(f, st, 11, 6, 6, I2, part ? "net" : "com");
}

MM_TEST(save_load_two_scans_equal_one)
{
	struct fx one, two;
	void *s1, *a, *b;
	struct mmtest_rows bs = {0};
	struct mm_finding *x = NULL, *y = NULL;
	int i;

	/* one scan over both halves */
	setup(&one);
	s1 = mm_det_dnsbehav.state_new();
	half(&one, s1, 0);
	half(&one, s1, 1);
	mm_det_dnsbehav.finish(s1, &one.c);
	CHECK_EQ_INT(nfind(&one, EXFIL, I1, &x), 1);
	CHECK_EQ_INT(nfind(&one, DGA, I2, &y), 1);

	/* two scans: the first half, finish (nothing yet), save; load, second half */
	setup(&two);
	a = mm_det_dnsbehav.state_new();
	half(&two, a, 0);
	mm_det_dnsbehav.finish(a, &two.c);
	CHECK_EQ_INT(mm_agg_count(two.agg), 0);
	CHECK_EQ_INT(mm_det_dnsbehav.save(a, mmtest_put_row, &bs), 0);
	CHECK_EQ_INT(bs.n, 2);
	mm_det_dnsbehav.state_free(a);
	b = mm_det_dnsbehav.state_new();
	for (i = 0; i < bs.n; i++)
		CHECK_EQ_INT(mm_det_dnsbehav.load(b, bs.entity[i], 1, bs.blob[i], bs.len[i]), 0);
	mmtest_rows_free(&bs);
	half(&two, b, 1);
	mm_det_dnsbehav.finish(b, &two.c);
	{
		struct mm_finding *x2 = NULL, *y2 = NULL;
		CHECK_EQ_INT(nfind(&two, EXFIL, I1, &x2), 1);
		CHECK_EQ_INT(nfind(&two, DGA, I2, &y2), 1);
		if (x && x2) {
			CHECK_EQ_INT(x->first_seen_ms, x2->first_seen_ms);
			CHECK_EQ_INT(x->last_seen_ms, x2->last_seen_ms);
			CHECK_EQ_INT(x->nevidence, x2->nevidence);
			CHECK_EQ_STR(x->info, x2->info);
		}
		if (y && y2) {
			CHECK_EQ_INT(y->first_seen_ms, y2->first_seen_ms);
			CHECK_EQ_INT(y->last_seen_ms, y2->last_seen_ms);
			CHECK_EQ_STR(y->domain, y2->domain);
			CHECK_EQ_STR(y->info, y2->info);
		}
	}
	/* and a third scan of nothing new emits nothing again (done is kept) */
	CHECK_EQ_INT(mm_det_dnsbehav.save(b, mmtest_put_row, &bs), 0);
	mm_det_dnsbehav.state_free(b);
	b = mm_det_dnsbehav.state_new();
	for (i = 0; i < bs.n; i++)
		CHECK_EQ_INT(mm_det_dnsbehav.load(b, bs.entity[i], 1, bs.blob[i], bs.len[i]), 0);
	mmtest_rows_free(&bs);
	mm_agg_clear(two.agg);
	mm_det_dnsbehav.finish(b, &two.c);
	CHECK_EQ_INT(mm_agg_count(two.agg), 0);
	mm_det_dnsbehav.state_free(b);
	mm_det_dnsbehav.state_free(s1);
	teardown(&one);
	teardown(&two);
}

/* Records split among three worker states in two ways, merged in two
 * orders: the saved state is byte for byte the same. */
MM_TEST(merge_order_is_exact)
{
	struct fx f;
	void *w[3], *g1, *g2;
	struct mmtest_rows b1 = {0}, b2 = {0};
	int i, k;
	setup(&f);
	for (k = 0; k < 3; k++)
		w[k] = mm_det_dnsbehav.state_new();
	/* split 1: round robin by record */
	for (i = 0; i < 90; i++) {
		char lab[48], name[128];
		hexlabel(lab, 40, 20, (unsigned)(i % 70)); /* 70 distinct, some twice */
		snprintf(name, sizeof(name), "%s.t.exfil.example.", lab);
		q(&f, w[i % 3], 10, i % 60, i / 60, name, I1, NULL, NULL);
		if (i < 30 && dga_domains[i])
			q(&f, w[(i + 1) % 3], 11, i, 0, dga_domains[i], I1, i % 3 ? "NXDOMAIN" : "NOERROR", NULL);
	}
	g1 = mm_det_dnsbehav.state_new();
	for (k = 0; k < 3; k++) {
		CHECK_EQ_INT(mm_det_dnsbehav.merge(g1, w[k]), 0);
		mm_det_dnsbehav.state_free(w[k]);
		w[k] = mm_det_dnsbehav.state_new();
	}
	/* split 2: contiguous blocks, the same records, merged in reverse */
	f.line = 0;
	for (i = 0; i < 90; i++) {
		char lab[48], name[128];
		hexlabel(lab, 40, 20, (unsigned)(i % 70));
		snprintf(name, sizeof(name), "%s.t.exfil.example.", lab);
		q(&f, w[i / 30], 10, i % 60, i / 60, name, I1, NULL, NULL);
		if (i < 30 && dga_domains[i])
			q(&f, w[2 - i / 10], 11, i, 0, dga_domains[i], I1, i % 3 ? "NXDOMAIN" : "NOERROR", NULL);
	}
	g2 = mm_det_dnsbehav.state_new();
	for (k = 2; k >= 0; k--) {
		CHECK_EQ_INT(mm_det_dnsbehav.merge(g2, w[k]), 0);
		mm_det_dnsbehav.state_free(w[k]);
	}
	CHECK_EQ_INT(mm_det_dnsbehav.save(g1, mmtest_put_row, &b1), 0);
	CHECK_EQ_INT(mm_det_dnsbehav.save(g2, mmtest_put_row, &b2), 0);
	CHECK_EQ_INT(b1.n, 1);
	CHECK_EQ_INT(b2.n, 1);
	{
		int x = mmtest_row(&b1, I1), y = mmtest_row(&b2, I1);
		CHECK(x >= 0 && y >= 0 && b1.len[x] == b2.len[y] &&
		      memcmp(b1.blob[x], b2.blob[y], b1.len[x]) == 0);
	}
	mmtest_rows_free(&b1);
	mmtest_rows_free(&b2);
	mm_det_dnsbehav.state_free(g1);
	mm_det_dnsbehav.state_free(g2);
	teardown(&f);
}

/* A window more than retain_hours behind the newest is pruned; state
 * stays bounded however many hours and bases an entity shows. */
MM_TEST(bounded_and_pruned)
{
	struct fx f;
	void *st;
	struct mmtest_rows bs = {0};
	char base[64];
	int h;
	setup(&f);
	st = mm_det_dnsbehav.state_new();
	for (h = 0; h < 24; h++) {
		int k;
		for (k = 0; k < 10; k++) { /* 240 bases with 3 long names each */
			snprintf(base, sizeof(base), "b%d-%d.example", h, k);
			tunnel(&f, st, h, 3, 40, base, I1, (unsigned)(h * 100 + k));
		}
		dga(&f, st, h, 3, 3, I1, "com");
	}
	mm_det_dnsbehav.finish(st, &f.c);
	CHECK_EQ_INT(mm_agg_count(f.agg), 0);
	CHECK_EQ_INT(mm_det_dnsbehav.save(st, mmtest_put_row, &bs), 0);
	CHECK_EQ_INT(bs.n, 1);
	CHECK(bs.len[0] < 200000); /* 64 + 24 windows at most */
	mmtest_rows_free(&bs);
	mm_det_dnsbehav.state_free(st);
	teardown(&f);
}

/* An instance whose windows all fell more than retain_hours behind the
 * newest hour of any instance is saved once, empty (its stored row is
 * emptied), then forgotten. */
MM_TEST(quiet_instance_ages_out)
{
	struct fx f;
	void *st;
	struct mmtest_rows bs = {0};
	setup(&f);
	st = mm_det_dnsbehav.state_new();
	tunnel(&f, st, 0, 3, 40, "t.old.example", I1, 1);
	/* retain_hours 5: I2's window at hour 6 leaves I1's at hour 0 behind */
	f.p[param("retain_hours")] = 5;
	tunnel(&f, st, 6, 3, 40, "t.new.example", I2, 2);
	mm_det_dnsbehav.finish(st, &f.c);
	CHECK_EQ_INT(mm_det_dnsbehav.save(st, mmtest_put_row, &bs), 0);
	CHECK_EQ_INT(bs.n, 2);
	{
		int x = mmtest_row(&bs, I1), y = mmtest_row(&bs, I2);
		CHECK(x >= 0 && bs.len[x] == 0);
		CHECK(y >= 0 && bs.len[y] > 0);
	}
	mmtest_rows_free(&bs);
	CHECK_EQ_INT(mm_det_dnsbehav.save(st, mmtest_put_row, &bs), 0);
	CHECK_EQ_INT(bs.n, 1);
	CHECK(mmtest_row(&bs, I2) >= 0);
	mmtest_rows_free(&bs);
	mm_det_dnsbehav.state_free(st);
	teardown(&f);
}

/* Malformed blobs are refused without crashing: every truncation, every
 * single-byte change, garbage, a bad entity name. */
MM_TEST(load_rejects_malformed)
{
	struct fx f;
	void *st, *b;
	struct mmtest_rows bs = {0};
	size_t cut;
	unsigned char *m;
	setup(&f);
	st = mm_det_dnsbehav.state_new();
	half(&f, st, 0);
	tunnel(&f, st, 12, 3, 40, "t.x.example", I2, 99);
	CHECK_EQ_INT(mm_det_dnsbehav.save(st, mmtest_put_row, &bs), 0);
	CHECK(bs.n == 2);
	b = mm_det_dnsbehav.state_new();
	CHECK_EQ_INT(mm_det_dnsbehav.load(b, bs.entity[0], 1, "", 0), 0); /* aged out: nothing */
	for (cut = 1; cut < bs.len[0]; cut++)
		CHECK(mm_det_dnsbehav.load(b, bs.entity[0], 1, bs.blob[0], cut) != 0);
	m = malloc(bs.len[0] + 1);
	for (cut = 0; cut < bs.len[0]; cut += 3) {
		memcpy(m, bs.blob[0], bs.len[0]);
		m[cut] ^= 0xa5;
		(void)mm_det_dnsbehav.load(b, bs.entity[0], 1, m, bs.len[0]); /* may or may not load; never crash */
	}
	memcpy(m, bs.blob[0], bs.len[0]);
	m[bs.len[0]] = 0;
	CHECK(mm_det_dnsbehav.load(b, bs.entity[0], 1, m, bs.len[0] + 1) != 0); /* trailing byte */
	CHECK(mm_det_dnsbehav.load(b, "", 1, bs.blob[0], bs.len[0]) != 0);
	CHECK(mm_det_dnsbehav.load(b, "i-0123456789abcdef0123456789abcdef0123456789abcdef", 1,
				   bs.blob[0], bs.len[0]) != 0);
	CHECK(mm_det_dnsbehav.load(b, I1, 1, "garbage", 7) != 0);
	CHECK_EQ_INT(mm_det_dnsbehav.load(b, bs.entity[0], 1, bs.blob[0], bs.len[0]), 0);
	free(m);
	mmtest_rows_free(&bs);
	mm_det_dnsbehav.state_free(b);
	mm_det_dnsbehav.state_free(st);
	teardown(&f);
}

/* ---- the reputation lists (threat-intel detector) ---------------------------- */

MM_TEST(reputation_list_types)
{
	static const struct {
		const char *cat, *type;
		double sev;
	} t[] = {
		{"abused", "Impact:EC2/AbusedDomainRequest.Reputation", 5},
		{"bitcoin", "Impact:EC2/BitcoinDomainRequest.Reputation", 8},
		{"malicious", "Impact:EC2/MaliciousDomainRequest.Reputation", 8},
		{"suspicious", "Impact:EC2/SuspiciousDomainRequest.Reputation", 2},
		{"driveby", "Trojan:EC2/DriveBySourceTraffic!DNS", 8},
		{"phishing", "Trojan:EC2/PhishingDomainRequest!DNS", 8},
		{"dga", "Trojan:EC2/DGADomainRequest.C!DNS", 8},
	};
	struct fx f;
	struct mm_err e;
	size_t i;
	char dom[64], name[96];
	setup(&f);
	mm_intel_free(f.in);
	CHECK_EQ_INT(mm_intel_new(&f.in), 0);
	for (i = 0; i < MM_ARRAY_LEN(t); i++) {
		enum mm_intel_cat c;
		CHECK_EQ_INT(mm_intel_cat_parse(t[i].cat, &c), 0);
		CHECK_EQ_STR(mm_intel_cat_name(c), t[i].cat);
		snprintf(dom, sizeof(dom), "%s-list.example\n198.51.100.%d\n", t[i].cat, (int)i + 1);
		CHECK_EQ_INT(mm_intel_load_mem(f.in, c, t[i].cat, dom, strlen(dom), NULL, &e), 0);
		CHECK(mm_ftype_get(t[i].type) != NULL);
		if (mm_ftype_get(t[i].type))
			CHECK(mm_ftype_get(t[i].type)->severity == t[i].sev);
	}
	CHECK_EQ_INT(mm_intel_build(f.in, &e), 0);
	f.c.intel = f.in;
	for (i = 0; i < MM_ARRAY_LEN(t); i++) {
		struct mm_event ev;
		char line[1024];
		int k;
		for (k = 0; k < 2; k++) {
			/* k 0: a subdomain (fires); k 1: the name glued to a prefix (does not) */
			snprintf(name, sizeof(name), k ? "x%s-list.example." : "www.%s-list.example.", t[i].cat);
			snprintf(line, sizeof(line),
				 "{\"version\":\"1.100000\",\"account_id\":\"111122223333\",\"region\":\"us-east-1\","
				 "\"query_timestamp\":\"2024-05-01T10:00:00Z\",\"query_name\":\"%s\","
				 "\"query_type\":\"A\",\"rcode\":\"NOERROR\",\"answers\":[],\"srcaddr\":\"10.0.0.5\","
				 "\"srcids\":{\"instance\":\"%s\"}}", name, k ? I2 : I1);
			memset(&ev, 0, sizeof(ev));
			mm_arena_reset(&f.scratch);
			CHECK_EQ_INT(mm_dns_parse(line, strlen(line), &f.scratch, &ev, &e), 0);
			ev.loc.file = "q.log";
			ev.loc.line = ++f.line;
			mm_det_threatintel.on_event(NULL, &f.c, &ev);
		}
		CHECK_EQ_INT(nfind(&f, t[i].type, I1, NULL), 1);
		CHECK_EQ_INT(nfind(&f, t[i].type, I2, NULL), 0);
	}
	/* the lists' addresses never make flow or API findings */
	{
		struct mm_intel_hit h[4];
		struct mm_ip ip;
		CHECK_EQ_INT(mm_ip_parse("198.51.100.3", 12, &ip), 0);
		CHECK_EQ_INT(mm_intel_match_ip(f.in, &ip, 0, h, 4), 1);
	}
	{
		size_t before = mm_agg_count(f.agg);
		struct mm_event ev;
		memset(&ev, 0, sizeof(ev));
		ev.kind = MM_EV_API;
		ev.u.api.has_source_ip = 1;
		mm_ip_parse("198.51.100.3", 12, &ev.u.api.source_ip);
		ev.u.api.who.access_key_id = mm_str_c("AKIAEXAMPLE");
		ev.u.api.event_name = mm_str_c("ListBuckets");
		ev.loc.file = "ct.json";
		mm_det_threatintel.on_event(NULL, &f.c, &ev);
		CHECK_EQ_INT(mm_agg_count(f.agg), before);
	}
	teardown(&f);
}

/* Names people registered (maltrail's dynamic DNS, web proxy and IP
 * lookup trails in ../shared/data: ~3300 human-chosen names, some by
 * abusers, none generated): the share scoring >= 55, printed; under 1 %. */
MM_TEST(dga_score_human_names_shared)
{
	static const char *const files[] = {"suspicious/dynamic_domain.txt",
					    "suspicious/anonymous_web_proxy.txt", "suspicious/ipinfo.txt"};
	const char *dir = mmtest_shared_data();
	size_t k;
	int n = 0, hi = 0;
	for (k = 0; k < MM_ARRAY_LEN(files); k++) {
		char path[1024], line[512];
		FILE *fp;
		snprintf(path, sizeof(path), "%s/intel/maltrail/%s", dir, files[k]);
		fp = fopen(path, "r");
		CHECK(fp != NULL);
		if (!fp)
			continue;
		while (fgets(line, sizeof(line), fp)) {
			int s;
			line[strcspn(line, "\r\n")] = '\0';
			if (!line[0] || line[0] == '#' || strchr(line, '/') || strchr(line, ':') ||
			    strspn(line, "0123456789.") == strlen(line))
				continue;
			if ((s = score_of(line)) < 0)
				continue;
			n++;
			hi += s >= 55;
		}
		fclose(fp);
	}
	fprintf(stderr, "  dga score >= 55: %d of %d human-chosen names (%.2f %%)\n", hi, n,
		n ? 100.0 * hi / n : 0);
	CHECK(n > 3000);
	CHECK(hi * 100 < n);
}
