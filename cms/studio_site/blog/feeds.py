from django.contrib.syndication.views import Feed


class BlogFeed(Feed):
    """RSS 2.0 feed of the newest 20 posts."""

    def __init__(self, index_page) -> None:
        super().__init__()
        self.index_page = index_page

    def title(self) -> str:
        return f"Learning Studio: {self.index_page.title}"

    def link(self) -> str:
        return self.index_page.url

    def description(self) -> str:
        return self.index_page.intro or "News and articles from Learning Studio."

    def items(self):
        return self.index_page.posts()[:20]

    def item_title(self, item) -> str:
        return item.title

    def item_description(self, item) -> str:
        return item.intro

    def item_link(self, item) -> str:
        return item.url

    def item_pubdate(self, item):
        return item.first_published_at
