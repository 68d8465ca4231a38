"""The catalog service layer on fakes: the product list, product pages, prices, seeding."""
