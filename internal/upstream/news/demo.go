package news

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/middletier/middletier/internal/upstream"
	"github.com/middletier/middletier/internal/upstream/httpjson"
)

// demoDefaultPage is the page size when the request names none.
const demoDefaultPage = 10

// NewDemo returns a demo news API: GET /v1/articles?limit=N&cursor=C with
// 40 fixed articles, newest first, published before upstream.DemoReference.
// Cursors encode the last article's id rather than an offset, the way a
// real feed keeps a page stable when a new article is published.
func NewDemo() http.Handler {
	feed := demoFeed(upstream.DemoReference())
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+articlesPath, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		limit := demoDefaultPage
		if s := q.Get("limit"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > MaxPage {
				httpjson.WriteError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("limit must be a whole number from 1 to %d", MaxPage))
				return
			}
			limit = n
		}
		start := 0
		if c := q.Get("cursor"); c != "" {
			i := slices.IndexFunc(feed, func(a wireArticle) bool { return demoCursor(a.ID) == c })
			if i < 0 {
				httpjson.WriteError(w, http.StatusBadRequest, "bad_request", "cursor is not valid")
				return
			}
			start = i + 1
		}
		end := min(start+limit, len(feed))
		page := wirePage{Articles: feed[start:end]}
		if end < len(feed) {
			page.NextCursor = demoCursor(feed[end-1].ID)
		}
		httpjson.WriteJSON(w, http.StatusOK, page)
	})
	return mux
}

func demoCursor(id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("after:" + id))
}

// demoFeed dates the articles back from ref about 43 hours apart, so they
// span ten weeks and land at varied times of day.
func demoFeed(ref time.Time) []wireArticle {
	feed := make([]wireArticle, len(demoArticles))
	for i, a := range demoArticles {
		feed[i] = wireArticle{
			ID:          fmt.Sprintf("news-%03d", len(demoArticles)-i),
			Title:       a.title,
			Summary:     a.summary,
			URL:         "https://intranet.contoso.example/news/" + slug(a.title),
			Author:      a.author,
			Category:    a.category,
			PublishedAt: ref.Add(-time.Duration(i)*43*time.Hour - 9*time.Hour),
		}
	}
	return feed
}

func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// demoArticles, newest first.
var demoArticles = [...]struct{ category, author, title, summary string }{
	{"Stores", "Store Operations", "Holiday opening hours for Thanksgiving week", "All stores close at 5 pm on Thanksgiving Day and open at 6 am on Black Friday. Check the rota in the scheduling app for your store's shifts."},
	{"Operations", "Store Operations", "Black Friday readiness checklist is live", "Store managers: complete the readiness checklist by November 14. It covers queue plans, extra registers, click-and-collect lockers and signage."},
	{"Benefits", "People & Culture", "Open enrollment closes November 15", "Review your medical, dental and vision elections in the benefits portal. If you do nothing, this year's choices roll over, except the FSA."},
	{"Safety", "Health & Safety", "Ladder safety refresher for the holiday stock-up", "Before high-shelf restocking starts, every associate completes the ten-minute ladder refresher. Damaged ladders go out of use and are reported the same day."},
	{"Stores", "Communications Team", "Contoso Kent Station celebrates its grand reopening", "After six weeks of renovation, Kent Station reopens with self-checkout, a wider pickup counter and a new home goods department."},
	{"People", "People & Culture", "Seasonal hiring: refer a friend, earn a bonus", "Refer a seasonal associate who stays through January and receive a $150 bonus in February's pay. Referrals go through the careers site."},
	{"Technology", "IT Service Desk", "Handheld scanners get a software update this weekend", "Scanners update overnight on Saturday. Leave them docked and charging at close; an undocked scanner updates on its next dock."},
	{"Community", "Communications Team", "Winter coat drive starts in all stores", "Collection bins are at the front of every store until December 12. Coats go to local shelters; thank you for helping customers find the bins."},
	{"Benefits", "People & Culture", "New mental health support through the employee assistance program", "Every employee and their household can now book up to eight free counselling sessions a year, by phone or video, in confidence."},
	{"Safety", "Health & Safety", "Wet floor procedure during the rainy season", "Put out the wet-floor signs and entrance mats as soon as rain starts, and log any slip in the incident app, even without an injury."},
	{"Company", "Office of the CEO", "Third-quarter results: thank you, team", "Same-store sales grew 4 percent, led by home goods and online orders picked up in store. The quarterly bonus pays out with November's first pay."},
	{"Stores", "Store Operations", "Redmond Town Center extends weekday hours", "From November 3, Contoso Redmond Town Center opens until 10 pm Monday to Friday. Managers will share the new shift patterns this week."},
	{"Operations", "Supply Chain", "Restock deliveries move to early mornings", "Trucks now arrive between 5 and 7 am so shelves are full before opening. Receiving teams start an hour earlier on delivery days."},
	{"Technology", "IT Service Desk", "The In-Store app now shows restock dates", "When a product is out of stock, the In-Store app shows when the next delivery is expected, so you can give customers a real date."},
	{"People", "People & Culture", "Congratulations to our Associates of the Quarter", "Twelve associates were nominated by their colleagues for outstanding customer service. Read their stories and join the celebration in your store."},
	{"Safety", "Health & Safety", "Fire drill schedule for the fourth quarter", "Each store runs one unannounced fire drill before the end of December. Know your assembly point and the nearest exit from your usual area."},
	{"Benefits", "People & Culture", "401(k) match increases to 5 percent next year", "From January 1, Contoso matches contributions up to 5 percent of pay. Update your contribution rate in the benefits portal to get the full match."},
	{"Stores", "Communications Team", "Lynnwood store wins regional customer service award", "Customers rated Contoso Lynnwood the best-served store in the region for the second year running. Congratulations to the whole team."},
	{"Community", "Communications Team", "Volunteer day: food bank sorting in Everett", "Join colleagues on a Saturday morning at the Everett food bank. Volunteer time counts toward your paid volunteering hours."},
	{"Operations", "Loss Prevention", "Updated procedure for suspected gift card fraud", "Never read gift card numbers over the phone. If a customer seems pressured to buy many cards, call a manager; the new guide is in the app."},
	{"Company", "Office of the CEO", "Our commitment to reducing packaging", "By 2028 all Contoso own-brand packaging will be recyclable or reusable. Stores will start collecting soft plastics for recycling in spring."},
	{"Technology", "IT Service Desk", "Multi-factor authentication for all employee accounts", "Set up the authenticator app by October 31. After that date, signing in to email, scheduling and the In-Store app asks for a second step."},
	{"People", "People & Culture", "Leadership development program opens applications", "Associates with a year of service can apply for the six-month program that prepares future store managers. Applications close in three weeks."},
	{"Safety", "Health & Safety", "Safe lifting: use the team lift for boxes over 50 pounds", "Heavy boxes now carry a red team-lift label. Ask a colleague or use the trolley; back injuries are our most common reported injury."},
	{"Stores", "Store Operations", "Bellevue Square store layout changes", "Electronics moves to the ground floor and seasonal goods take its place upstairs. Updated store maps are in the In-Store app."},
	{"Benefits", "People & Culture", "Flu shots free at participating pharmacies", "Show your benefits card at a participating pharmacy for a free flu shot. You may take paid time during your shift to get one."},
	{"Operations", "Supply Chain", "New pallet labels speed up receiving", "Pallets now carry one barcode for the whole shipment. Scan it once to receive every carton, instead of scanning each box."},
	{"Community", "Communications Team", "Back-to-school supply drive raised 12,000 backpacks", "Thanks to customers and colleagues, we delivered 12,000 filled backpacks to schools across the region this year."},
	{"Company", "Communications Team", "Welcome to our new Chief Operating Officer", "Priya Raman joins Contoso as Chief Operating Officer after fifteen years in retail operations. She will visit every store before the holidays."},
	{"Stores", "Communications Team", "Grand opening date set for Contoso Tacoma Mall", "Our newest store opens its doors on November 20. Associates transferring from nearby stores start training next week."},
	{"Technology", "IT Service Desk", "Self-checkout software update improves bagging scale", "Fewer unexpected-item alerts: the new bagging-area calibration rolls out to all self-checkout lanes this month."},
	{"Safety", "Health & Safety", "Heat advisory: stay hydrated on the loading dock", "During the heat advisory, dock teams take a ten-minute break every hour. Water and electrolyte drinks are in the break room."},
	{"People", "People & Culture", "Updated dress code: Contoso polo and name badge", "From October 1 the store uniform is the navy Contoso polo with your name badge. Two polos per associate are on us; order them in the portal."},
	{"Benefits", "People & Culture", "Paid parental leave extended to 16 weeks", "Every parent, including adoptive and foster parents, now receives 16 weeks of fully paid leave in the first year after a child arrives."},
	{"Operations", "Store Operations", "Click and collect orders ready within two hours", "Our promise to online customers is now two hours from order to pickup. Pickers get priority alerts on their handhelds."},
	{"Stores", "Store Operations", "Kirkland store closes early for floor resurfacing", "Contoso Kirkland closes at 6 pm on September 8 and 9 while the floors are resurfaced. Shifts are moved, not cancelled."},
	{"Community", "Communications Team", "Contoso sponsors the Seattle summer fun run", "Run, walk or cheer: employees and families run free. Sign up on the intranet and collect your race shirt at the Seattle Downtown store."},
	{"Company", "Office of the CEO", "Second-quarter results and what comes next", "Online orders grew fastest, and most were picked up in store. Our focus for the second half is stock accuracy and restock speed."},
	{"Safety", "Health & Safety", "Report hazards in the incident app, not on paper", "The paper hazard book is retired. Any associate can log a hazard with a photo in the app; managers are alerted at once."},
	{"People", "People & Culture", "Welcome to our summer interns", "Forty interns join store operations, supply chain and IT for ten weeks. Say hello when they visit your store."},
}
