"""The catalog's texts in each of the shop's languages (django-modeltranslation).

Each translated field gets a column per language on the same row (`name_en`, `name_ru`, ...), so
a list of products reads its texts in the query it already makes: no join, no query per row.
Reading `product.name` gives the page's language, else the shop's main one. The original column
(`name`) always holds the main language's text (`sync_main_language`): the catalog's order, its
indexes and the search words are built from it, the same for every language.
"""

from modeltranslation.translator import TranslationOptions, register

from kassa.catalog.models import Collection, Item, Product, ProductImage


@register(Product)
class ProductTranslation(TranslationOptions):
    fields = ("name", "description", "body_html")


@register(Collection)
class CollectionTranslation(TranslationOptions):
    fields = ("name", "description")


@register(Item)
class ItemTranslation(TranslationOptions):
    fields = ("name", "description", "image_alt")


@register(ProductImage)
class ProductImageTranslation(TranslationOptions):
    fields = ("alt",)
