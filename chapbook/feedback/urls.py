"""Every feedback page; each feature's views module lists its own URLs."""

from chapbook.feedback.views import bookmarks, comments, history, inbox, kudos, stats, subscriptions

app_name = "feedback"
urlpatterns = [
    *kudos.urlpatterns,
    *comments.urlpatterns,
    *bookmarks.urlpatterns,
    *subscriptions.urlpatterns,
    *inbox.urlpatterns,
    *history.urlpatterns,
    *stats.urlpatterns,
]
