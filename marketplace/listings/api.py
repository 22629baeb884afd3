from flask_smorest import Blueprint

blp = Blueprint("listings_api", __name__, description="Seller listings")
