import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chapbook.settings")
application = get_wsgi_application()

# Build the word counter's tables now, in the server process, rather than inside the
# first request that posts a chapter.
from chapbook.lib.wordcount import count_words  # noqa: E402

count_words("<p>warm up</p>")
